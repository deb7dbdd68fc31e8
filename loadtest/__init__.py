"""Load testing (locust) and the capacity benchmark harness for quiz-engine.

- ``loadtest/locustfile.py`` — locust viewers speaking the real protocol + a show driver.
- ``python -m loadtest.bench`` — the asyncio swarm benchmark (see loadtest/README.md).
"""

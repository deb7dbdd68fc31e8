"""Server variants for A/B benchmark runs (``python -m loadtest.bench --server-wrapper …``).

Each module here runs the unmodified ``quiz-engine`` CLI after monkeypatching one proposed
fix, so a fix can be measured before anyone edits ``quiz_engine/``. Nothing here is imported
by the server itself.
"""

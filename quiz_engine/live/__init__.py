"""The live engine's parts, each with one job; ``runner.py`` wires them together.

- ``mirror``: this node's copy of the episode (sync, pub/sub listen, poll), feeding the projector;
- ``scheduler``: the phones' frames after the stream delay, and the question's delivery allowances;
- ``answers``: answers into Redis batches, acks out;
- ``viewers``: join, resume, snapshots and personal standings;
- ``host``: host commands and the host panel's state and live numbers;
- ``presence``: this node's heartbeat, the cluster's counts, Redis outages (incidents);
- ``closer``: the timer that closes a question at its deadline (idempotent across nodes);
- ``gcpolicy``: full garbage collections kept out of open questions.
"""

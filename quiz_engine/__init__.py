"""quiz-engine: a real-time livestream quiz engine with provably fair answer ordering."""

__version__ = "0.1.0"

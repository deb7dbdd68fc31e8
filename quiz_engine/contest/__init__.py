"""The online contest: a self-paced contest open for weeks, on the live show's banks (docs/contest.md)."""

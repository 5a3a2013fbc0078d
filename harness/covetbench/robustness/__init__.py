"""Robustness of one server under a long or hostile load: soak (memory growth) and fuzz
(malformed HTTP/1.1)."""

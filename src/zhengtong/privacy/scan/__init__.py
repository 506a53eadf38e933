"""The proof that nothing is left (`zhengtong privacy scan`), log retention and residency."""

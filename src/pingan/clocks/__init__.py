"""Deadlines (期限): the official calendar and one clock mechanism for every time limit."""

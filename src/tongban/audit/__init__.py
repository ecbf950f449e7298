"""Tamper-evident access log (谁访问、谁负责) and misuse alerts."""

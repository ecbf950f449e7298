"""Insight: process analysis of the case event log (堵点), indicators and reports."""

"""Referral-to-treatment (RTT) waiting times as the NHS publishes them: week bands, returns."""

"""shikaku: eligibility notices, certificates and checks for Japanese health insurers."""

__version__ = "0.1.0"

"""The web layer: the clinic API (HTTP and FHIR). Thin: it calls service/ and registry/."""

"""LTI 1.3: HeForShe as a tool in a university's learning platform (docs/lti.md)."""

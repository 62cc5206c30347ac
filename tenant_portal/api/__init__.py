"""API keys and the Commitments API (``/api/v1``): the portal page that manages keys and the API they open."""

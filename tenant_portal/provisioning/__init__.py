"""SCIM 2.0 provisioning (``/scim/v2``): the roster an identity provider pushes, and the portal page of its token."""

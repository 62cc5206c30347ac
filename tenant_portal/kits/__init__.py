"""Portal pages: which of the operator's action kits the organisation's pages show, and its own kits."""

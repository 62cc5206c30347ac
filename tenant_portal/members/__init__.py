"""Members and roles: the list, admin and viewer invitations by email, removal; each member's own page."""

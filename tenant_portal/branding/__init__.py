"""Branding: logo, favicon, colours (with contrast checks), texts per language, languages, listing, custom domains."""

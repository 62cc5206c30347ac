"""Tenants' Stripe subscriptions."""

"""Figures (matplotlib) and the dashboard app. The model never imports this package."""

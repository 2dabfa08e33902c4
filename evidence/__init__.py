"""The evidence pipeline behind build.py: schema, load, validate, render."""

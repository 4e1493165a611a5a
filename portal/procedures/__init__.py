"""Procedure runs: a controlled procedure's steps walked in order, each with its clock."""

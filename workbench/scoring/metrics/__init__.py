"""Local `evaluate` metric modules; load one offline with evaluate.load(<this folder>/<name>)."""

"""MiniGPT-4 Workbench: run, score and compare MiniGPT-4-style vision-language models.

Data flow: eval set -> generate -> run store -> score -> compare -> report.
"""

__version__ = "0.1.0"

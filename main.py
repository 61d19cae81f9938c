"""Local shim: `python main.py spec|check|discover|read ...` runs the same entry point as `source-calendly`."""

from source_calendly.run import run

if __name__ == "__main__":
    run()

from source_calendly.source import SourceCalendly

__all__ = ["SourceCalendly"]

"""Metrics on (time, regions) series: FC, FCD, spectra, distribution distances."""

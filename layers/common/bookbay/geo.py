"""ZIP centroids (zipcodes package) and great-circle distances."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

from bookbay.domain.catalog import Coordinates

EARTH_RADIUS_MILES = 3958.8


def zip_centroid(zip_code: str) -> Coordinates | None:
    """The centroid of a US ZIP code, or None when the ZIP is unknown."""
    import zipcodes  # imported on first use: it loads its data set (about 0.5 s)

    try:
        matches = zipcodes.matching(zip_code)
    except (TypeError, ValueError):
        return None
    for match in matches:
        if match.get("lat") and match.get("long"):
            return Coordinates(lat=float(match["lat"]), lon=float(match["long"]))
    return None


def distance_miles(a: Coordinates, b: Coordinates) -> float:
    """Haversine distance in miles."""
    dlat = radians(b.lat - a.lat)
    dlon = radians(b.lon - a.lon)
    h = sin(dlat / 2) ** 2 + cos(radians(a.lat)) * cos(radians(b.lat)) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * asin(sqrt(h))

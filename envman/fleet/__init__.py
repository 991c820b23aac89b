"""Fleets: inventories, concurrent checks with a bound, state kept between runs, watch,
notifications (apprise) and metrics (Prometheus textfile)."""

from envman.fleet.inventory import FleetTarget, Inventory, load_inventory, parse_inventory, select, targets_of
from envman.fleet.run import FleetResult, check_fleet, default_jobs, fleet_exit_code

__all__ = [
    "FleetTarget",
    "Inventory",
    "load_inventory",
    "parse_inventory",
    "select",
    "targets_of",
    "FleetResult",
    "check_fleet",
    "default_jobs",
    "fleet_exit_code",
]

"""What bookings does when the outbox says so (registered in BookingsConfig.ready)."""

from mentorship.outbox import handles

from . import directory


@handles("mentor.free_time_changed")
def refresh_next_free(mentor_id: int) -> None:
    directory.refresh_next_free(mentor_id)

"""The booking domain: the funding split, the cancellation policy and the Booking saga."""

"""Contact points: a person's verified email or US mobile number, with what they consented to."""

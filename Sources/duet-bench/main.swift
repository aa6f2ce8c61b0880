// Filled in by the media pipeline work: SRTP and Opus cost ratios.

"""Running a box: every worker assigned to it, supervised, in one log stream (`edge run`)."""

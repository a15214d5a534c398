"""The My Number vault: the Individual Number kept apart, used only for statutory affairs by its handlers."""

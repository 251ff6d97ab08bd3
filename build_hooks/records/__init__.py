"""Where measurements are kept: the local results cache (`cache`), the committed per-machine
archive under results/ (`archive`), and what changed between two refreshes (`history`)."""

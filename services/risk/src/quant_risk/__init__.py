"""The risk service: follows equity and positions from the bus and trips the policy's breakers."""

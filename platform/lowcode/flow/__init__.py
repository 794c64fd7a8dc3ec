"""The workflow service layer: process instances persisted, routed to departments by the lane
rules of definitions, advanced by user submits, platform services and timers."""

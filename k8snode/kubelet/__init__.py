"""The kubelet's flags: the settings catalog and the formats it prints."""

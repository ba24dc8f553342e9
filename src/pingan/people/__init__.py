"""People (人员): the one person record every module links to (a case's suspect, a dispute's
party, a fraud warning's potential victim, a registry resident)."""

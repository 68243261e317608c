"""The periods the law sets (SPEC §4), in working days, each declared once: the reply clock,
its extension cap, and the periods of the agency, the applicant and consulted parties."""

from __future__ import annotations

REPLY_BUDGET = 20  # Art. 33: the reply is due within 20 working days
EXTENSION_CAP = 20  # Art. 33: extensions of one case total at most 20 working days
CORRECTION_NOTICE_DAYS = 7  # Art. 30: a correction must be asked for within 7 working days of receipt
CORRECTION_PERIOD_DAYS = 15  # the applicant's correction period unless config says otherwise
CORRECTION_PERIOD_RANGE = (1, 60)  # a correction period outside it is refused as a typo
CONSULTATION_DAYS = 15  # Art. 32, 34: the consulted party's period
FEE_DAYS = 20  # 国办函〔2020〕109号: the applicant has 20 working days to pay
REASONS_DAYS = 15  # Art. 35: the applicant's time to state the reasons for an excessive request (practice)

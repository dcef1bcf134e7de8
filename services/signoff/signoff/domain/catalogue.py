"""The five exemplar types of seed 000, as they are stored at first start-up (if absent). From then
on they are data: an administrator changes them through the API without code.

Who signs what ("A Practitioners Guide to Quality Assurance, Workflow and Signoff in DIATs"):

    Referral and Information   duty senior / duty senior
    Initial assessment         social worker / duty senior
    Core assessment            social worker / duty senior
    Strategy discussion        chair / chair
    Outcome s47 enquiries      chair / district manager

The questions come from the seed where it names them (e.g. 'Relationship to the Child / Young
Person.', 'Further action. (Please select.)', 'Date initial assessment commenced.', Panel 5 'Has the
Child Young Person Been Seen', Panel 21 'Analysis of Information Gathered') and otherwise from what
each exemplar records.
"""

from __future__ import annotations

from . import roles as r
from .types import ExemplarType, Question, QuestionKind

TEXT, YES_NO, DATE, CHOICE = QuestionKind.TEXT, QuestionKind.YES_NO, QuestionKind.DATE, QuestionKind.CHOICE

#: The seed's second signature: the duty senior, or a "relevant Manager" of the seed's list.
_DUTY_SENIOR_OR_MANAGER = frozenset({r.DUTY_SENIOR, *r.SEED_COUNTER_SIGNERS})
#: "Chair" of a strategy discussion: in the seed's DIAT arrangements the discussion is chaired by the
#: team's supervisors (duty senior, team leader, team manager), who must "organise cover if the usual
#: supervisor is not available". CP chairs (cp_chair) chair child protection conferences, and sit
#: outside the child's team, so they are not given this role; an administrator can add them.
_CHAIR = frozenset({r.TEAM_MANAGER, r.TEAM_LEADER, r.DUTY_SENIOR})

_COUNTER_NOTE = (
    "Second signature: the duty senior (duty_senior) or a relevant manager of the child's team as the seed lists them "
    "(senior_practitioner, practice_supervisor, team_leader, district_manager, principal_social_worker)."
)
_CHAIR_NOTE = (
    "'Chair' is the strategy discussion's chair from the child's team: team_manager, team_leader or duty_senior "
    "(cp_chair chairs conferences, not strategy discussions, and is left out; add it here if local practice differs)."
)


def _q(qid: str, text: str, kind: QuestionKind, mandatory: bool = True, options: tuple[str, ...] = ()) -> Question:
    return Question(qid, text, kind, mandatory, options)


def _further_action(options: tuple[str, ...]) -> Question:
    """The seed's 'Further action. (Please select.)', with the choices of one exemplar type."""
    return _q("further_action", "Further action. (Please select.)", CHOICE, options=options)


#: Questions several exemplar types ask in the same words.
_CHILD_SEEN = _q("child_seen", "Has the Child / Young Person Been Seen?", YES_NO)
_ANALYSIS = _q("analysis", "Analysis of Information Gathered.", TEXT)
_ARRANGEMENT_START_DATE = _q("arrangement_start_date", "Arrangement Start Date.", DATE, mandatory=False)


REFERRAL = ExemplarType(
    code="REFERR",
    name="Referral and Information",
    questions=(
        _q("referral_date", "Date of referral.", DATE),
        _q("referrer_relationship", "Relationship to the Child / Young Person.", TEXT),
        _q("reason_for_referral", "Reason for referral.", TEXT),
        _further_action((
            "Initial assessment", "Strategy discussion", "Advice and information", "No further action",
        )),
        _ARRANGEMENT_START_DATE,
    ),
    first_signers=frozenset({r.DUTY_SENIOR}),
    counter_signers=_DUTY_SENIOR_OR_MANAGER,
    same_person_may_sign_both=True,
    timescale_working_days=1,
    start_question_id="referral_date",
    role_notes=(
        "Duty senior / duty senior: both signatures may be the same duty senior (duty_senior). " + _COUNTER_NOTE
        + " Timescale: a referral decision within one working day (Working Together 2010), a default to change here."
    ),
)

INITIAL_ASSESSMENT = ExemplarType(
    code="INIASS",
    name="Initial Assessment",
    questions=(
        _q("date_commenced", "Date initial assessment commenced.", DATE),
        _CHILD_SEEN,
        _q("date_child_seen", "Date the Child / Young Person was seen.", DATE, mandatory=False),
        _ANALYSIS,
        _further_action((
            "Core assessment", "Strategy discussion", "Child in need services", "No further action",
        )),
        _q("plan_review_date", "Date on which this initial plan will be reviewed.", DATE, mandatory=False),
        _ARRANGEMENT_START_DATE,
    ),
    first_signers=frozenset({r.SOCIAL_WORKER, r.DUTY_SENIOR}),
    counter_signers=_DUTY_SENIOR_OR_MANAGER,
    # "For those cases progressing to strategy discussion the exemplar will be completed by team
    # admin and the duty senior will add the first and second signature."
    same_person_may_sign_both=True,
    timescale_working_days=7,
    start_question_id="date_commenced",
    role_notes=(
        "Social worker (social_worker) / duty senior. The duty senior may also give the first signature, and then the "
        "second, for cases progressing to a strategy discussion (seed N.B.), so one person may sign both. " + _COUNTER_NOTE
        + " Timescale: 7 working days from the date the assessment commenced (seed)."
    ),
)

CORE_ASSESSMENT = ExemplarType(
    code="COREAS",
    name="Core Assessment",
    questions=(
        _q("date_commenced", "Date core assessment commenced.", DATE),
        _CHILD_SEEN,
        _q("developmental_needs", "Child's developmental needs.", TEXT),
        _q("parenting_capacity", "Parenting capacity.", TEXT),
        _q("family_environment", "Family and environmental factors.", TEXT),
        _ANALYSIS,
        _q("outcome", "Outcome. (Please select.)", CHOICE, options=(
            "Child in need plan", "Strategy discussion", "Child protection conference", "No further action",
        )),
    ),
    first_signers=frozenset({r.SOCIAL_WORKER}),
    counter_signers=_DUTY_SENIOR_OR_MANAGER,
    same_person_may_sign_both=False,
    timescale_working_days=35,
    start_question_id="date_commenced",
    role_notes=(
        "Social worker (social_worker) / duty senior: a manager other than the social worker counter-signs. "
        + _COUNTER_NOTE + " Timescale: 35 working days (Working Together 2010), a default to change here."
    ),
)

STRATEGY_DISCUSSION = ExemplarType(
    code="STRATD",
    name="Strategy Discussion",
    questions=(
        _q("discussion_date", "Date of strategy discussion.", DATE),
        _q("agencies_taking_part", "Agencies taking part.", TEXT),
        _q("information_shared", "Information shared.", TEXT),
        _q("decision", "Decision. (Please select.)", CHOICE, options=(
            "Single-agency s47 enquiries", "Joint s47 enquiries with the police", "No s47 enquiries: continue assessment",
            "No further action",
        )),
        _q("actions_agreed", "Actions agreed, by whom and by when.", TEXT, mandatory=False),
    ),
    first_signers=_CHAIR,
    counter_signers=_CHAIR,
    same_person_may_sign_both=True,
    timescale_working_days=1,
    start_question_id="discussion_date",
    role_notes="Chair / chair: the chair gives both signatures. " + _CHAIR_NOTE
    + " Timescale: recorded and signed by the next working day, a local default to change here.",
)

OUTCOME_S47 = ExemplarType(
    code="S47OUT",
    name="Outcome of s47 Enquiries",
    questions=(
        _q("enquiries_commenced", "Date s47 enquiries commenced.", DATE),
        _q("agency_checks_completed", "Have all agency checks been completed?", YES_NO),
        _CHILD_SEEN,
        _q("outcome", "Outcome of s47 enquiries. (Please select.)", CHOICE, options=(
            "Concerns not substantiated", "Concerns substantiated: child not judged at continuing risk of significant harm",
            "Concerns substantiated: initial child protection conference",
        )),
        _ANALYSIS,
        _q("conference_date", "Date of initial child protection conference.", DATE, mandatory=False),
    ),
    first_signers=_CHAIR,
    counter_signers=frozenset({r.DISTRICT_MANAGER}),
    same_person_may_sign_both=False,
    timescale_working_days=15,
    start_question_id="enquiries_commenced",
    role_notes=(
        "Chair / district manager (district_manager), who will have read the strategy discussion exemplar and ensured "
        "agency checks were completed before the second signature (seed N.B.). " + _CHAIR_NOTE
        + " Timescale: 15 working days to the initial child protection conference (Working Together 2010), a default."
    ),
)

SEED_TYPES: tuple[ExemplarType, ...] = (REFERRAL, INITIAL_ASSESSMENT, CORE_ASSESSMENT, STRATEGY_DISCUSSION, OUTCOME_S47)

#: Exemplar types counter-signed only once an exemplar of another type on the same case has been
#: counter-signed: "When quality assuring the outcome of s47 enquiries exemplar the district manager
#: will have read the strategy discussion exemplar [...] before applying their second signature."
COUNTER_SIGN_AFTER: dict[str, str] = {OUTCOME_S47.code: STRATEGY_DISCUSSION.code}

"""Appendix A's crib sheet: the 16 quality points checked in supervision, in the appendix's own
words ("A synthesis of all the repeated key lessons from audit to be used to check for quality in
supervision"). Data, not code: each point's number, its text and its sub-points."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CribPoint:
    number: int
    text: str
    details: tuple[str, ...] = ()


THEMES_HEADING = (
    "Themes: For Managers and social workers to ensure these issues are addressed in- Child and Family Assessments, "
    "child protection reports and in supervision meetings."
)
COLUMNS = ("Social worker", "Manager", "Comments/ follow up Action", "Date checked by Manager")

CRIB_POINTS: tuple[CribPoint, ...] = (
    CribPoint(1, "Ensure relevant partner agencies are invited to strategy meetings (if appropriate)"),
    CribPoint(2, "Ensure minutes from Strategy meetings are completed and distributed to the relevant agencies"),
    CribPoint(3, "Ensure that plans made from a Strategy meeting are SMART.", (
        "Tasks need to be clear with the person responsible for completion clearly identified.",
        "Task needs to be time scaled and where appropriate review of tasks needs to be planned at the Strategy meeting.",
    )),
    CribPoint(4, "Include all partner agencies (via informing, completion of network checks etc) of decision to enter S47 enquiry and of "
              "outcome of enquiry and decision making."),
    CribPoint(5, "If delay in receiving completed Key checks, for a S47 (timescales specified in London procedures) SW to alert manager and "
              "if necessary, manager to escalate both internally and externally."),
    CribPoint(6, "Ensure that Family and CP Chair have:", (
        "received the Initial conference report a minimum of 24 hrs before the conference,",
        "and 5 working days before review conference",
        "Ensure children are kept updated if they are developmentally aware of the process. (developmental stage and not age)",
    )),
    CribPoint(7, "Ensure that all partner agencies (GP, health visitors, Community nurses consultants, police, education and voluntary sector "
              "etc) are invited to Initial/Review conference.", (
        "Written invites to be sent out to partner agencies a minimum of 4 weeks prior to Conference review",
        "Date for submission of agency reports should be explicit in the invite letter if unable to attend",
        "Conference minutes to be sent out in a timely way to family and agencies",
    )),
    CribPoint(8, "Date for the initial Core Group meeting to be set at Initial conference.", (
        "Subsequent Core Group meetings to be set either: at end of previous Core groups or at the review conference.",
        "Distribution of Core group meeting minutes to be sent out in a timely way to family and agencies",
    )),
    CribPoint(9, "Written confirmation of Core group date to be sent a minimum of 3 week before Core group date.", (
        "Core group date confirmation letter should be clear that partner agencies expected to: Provide written report if not attending,",
        "Report should be received in 24hrs before the Core Group.",
    )),
    CribPoint(10, "Assessments and case notes show clear evidence of the nature of direct work with children, young people.", (
        "Is there a clear plan and purpose to the visit and are the issues in the case being addressed?",
        "Is there clear planning for the next visit?",
        "Is the voice of the child reflected? Is there is a record of the child's views, wishes and feelings?",
        "e.g. evidence child being spoken to; tools used to engage a child; activities undertaken; joint work with partner agencies; liaison "
        "with other professionals who know the child; use of non verbal communication, including observation, drawing, play etc.; the child "
        "is kept updated of the process and the outcome",
    )),
    CribPoint(11, "Both parents need to be included in assessment and, (where possible) visited.", (
        "Is the visit purposeful and addressing the issues?",
        "When it is not possible to assess or visit a parent the reason for this omission need to be clearly recorded in the assessment.",
    )),
    CribPoint(12, "Clear evidence that Child and young person have been spoken to alone and that Child/ young person's bedroom to be seen a "
              "minimum on every other visit.", (
        "If not completed a clear explanation of why & identification of any action needed.",
    )),
    CribPoint(13, "RISK ASSESSMENT:", (
        "A) Risk assessment to be reviewed a minimum of 3 monthly by the manager, taking into account new information, incidents, and changes "
        "in family dynamic. This process should be explicitly recorded on a case record",
        "B) Have new incidents led to a re-assessment of risk? Have risks been reduced and have we made a tangible difference?",
        "C) If not, does this need escalating with a parallel plan in Place?",
        "D) Is there an up to date Chronology where all previous referrals and incidents have been considered?",
    )),
    CribPoint(14, "Child Protection Plans and Child in Need Plans:", (
        "A) To ensure Child Protection/Need plans have identified clear outcomes for children",
        "B) Are parents/carers clear what needs to change and what will happen if they don't?",
        "C) If, there is limited evidence of progress of change, is there a clear timeframe and contingency plan in place?",
    )),
    CribPoint(15, "Identity, equality and Diversity:", (
        "A) To include a specific agenda item to explicitly consider issues related to Identity, equality and diversity on case by case basis "
        "in our assessments, conference and supervision records and that it is recorded for inspectors and auditors to see.",
        "B) To ensure the child has been spoken to and ask about identity, Culture and diversity",
    )),
    CribPoint(16, "No Further Action on Cases:", (
        "A) Have the other agencies been informed that the case is closed and informed of the reason?",
        'B) Has the case been "stepped down"?',
        "C) Have children/YP and parents been informed and given the opportunity to access the feedback process and informed of the "
        "complaints procedure?",
    )),
)

POINT_NUMBERS = frozenset(p.number for p in CRIB_POINTS)

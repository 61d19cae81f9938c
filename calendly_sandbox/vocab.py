"""Static word pools the dataset generator draws from (kept apart so dataset.py stays about structure)."""

from __future__ import annotations

FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Liam", "Maya",
    "Nikolai", "Olivia", "Pablo", "Qing", "Rosa", "Samir", "Tara", "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe",
    "Amara", "Bruno", "Camille", "Dmitri", "Esther", "Felix", "Gia", "Hugo", "Isla", "Jae", "Kofi", "Lena", "Mateo",
    "Noor", "Omar", "Priya", "Rafael", "Sofia", "Tomas", "Valentina", "William", "Yara",
)  # fmt: skip

LAST_NAMES = (
    "Almeida", "Brown", "Chen", "Dubois", "Eriksen", "Fernandez", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
    "Lopez", "Müller", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka", "Urban", "Vargas",
    "Wong", "Xu", "Yilmaz", "Zhang", "O'Brien", "de la Cruz", "van Dijk", "Nguyen", "Ivanova", "Mensah",
)  # fmt: skip

EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example", "corp.example")

TIMEZONES = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires", "Europe/London", "Europe/Paris", "Europe/Berlin", "Europe/Madrid",
    "Africa/Lagos", "Asia/Kolkata", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney", "Pacific/Auckland",
)  # fmt: skip

USER_LOCALES = ("en", "en", "en", "fr", "es", "de", "pt")
EVENT_TYPE_LOCALES = ("en", "en", "en", "fr", "es", "de", "nl", "pt", "it", "uk")

SOLO_TYPE_NAMES = (
    "15 Minute Meeting", "30 Minute Meeting", "60 Minute Meeting", "Intro Call", "Product Demo", "Discovery Call",
    "Onboarding Session", "Quarterly Review", "Office Hours", "Technical Deep Dive", "Coffee Chat", "Interview",
    "Support Call", "Renewal Discussion", "Strategy Session", "Pricing Q&A",
)  # fmt: skip

GROUP_TYPE_NAMES = (
    "Group Workshop", "Webinar: Getting Started", "Team Training", "Live Q&A", "Masterclass", "Community Meetup",
    "Test Group Meeting", "Cohort Kickoff",
)  # fmt: skip

COLORS = ("#8247f5", "#0099ff", "#17e885", "#ffa600", "#e55cff", "#ff4f00", "#1e88e5", "#c1e500", "#8989fc")

CUSTOM_QUESTIONS = (
    {"name": "Please share anything that will help prepare for our meeting.", "type": "text", "choices": []},
    {"name": "Company Name", "type": "string", "choices": []},
    {"name": "Phone Number", "type": "phone_number", "choices": []},
    {"name": "Number of employees", "type": "single_select", "choices": ["1", "2-10", "11-50", "51-200", "200+"]},
    {"name": "Which products interest you?", "type": "multi_select", "choices": ["Scheduling", "Routing", "Analytics"]},
)  # fmt: skip

TEXT_ANSWERS = (
    "Looking forward to it!", "We want to discuss the renewal.", "Questions about the API rate limits.",
    "Multiple line\nanswer", "Can we also cover pricing?", "Nothing special.", "Please call me on arrival.",
)  # fmt: skip

COMPANIES = ("Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises", "Vandelay", "Tyrell")

CANCEL_REASONS = (
    "Meeting Conflict", "Something came up", "Sick day", "Need to reschedule", "No longer needed",
    "Double booked", "Travel delay",
)  # fmt: skip

CITIES = ("Lisbon", "Berlin", "Austin", "Toronto", "Nairobi", "Osaka", "Melbourne", "Bogotá")

UTM_SOURCES = ("newsletter", "google", "linkedin", "partner", "website")
UTM_MEDIUMS = ("email", "cpc", "social", "referral")
UTM_CAMPAIGNS = ("spring_launch", "webinar_series", "q3_push", "retargeting")

ROUTING_FORM_NAMES = (
    "Sales Inquiry", "Support Triage", "Partner Application", "Demo Request", "Enterprise Contact", "Event Signup",
)  # fmt: skip

INDUSTRIES = ("IT & Software", "Financial Services", "Entertainment", "Healthcare", "Education", "Retail")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")

CUSTOM_MESSAGES = (
    ("Thank you for your interest", "We aren\u2019t able to offer any meetings at this time."),
    ("Thanks!", "Our team will reach out by email within two business days."),
)
EXTERNAL_URLS = ("https://example.com/contact", "https://example.com/pricing", "https://example.org/partners")

GROUP_NAMES = ("Sales", "Customer Success", "Support", "Engineering", "Marketing", "Partnerships")
TEAM_NAMES = ("Sales Team", "Onboarding Team", "Support Team", "Recruiting", "Solutions Engineering", "Events")

JOB_TITLES = ("CTO", "Head of Sales", "Operations Manager", "Founder", "Data Engineer", "Account Executive")

# (label, field_type, options) of the contact custom fields an organization defined.
CONTACT_FIELDS = (
    ("Lead score", "number", ()),
    ("Segment", "single_select", ("smb", "mid-market", "enterprise")),
    ("Interests", "tags", ("scheduling", "routing", "analytics", "api")),
    ("Renewal date", "date", ()),
    ("Source", "text", ("webinar", "referral", "website", "event")),
)  # fmt: skip

# (namespace, action, details) of activity log entries.
ACTIVITY_ACTIONS = (
    ("User", "Login", {"method": "password"}),
    ("User", "Login", {"method": "sso"}),
    ("User", "Logout", {}),
    ("Organization", "InviteUser", {"email": "new.hire@acme.example", "role": "user"}),
    ("Organization", "RemoveUser", {"email": "former@acme.example"}),
    ("Organization", "UpdateRole", {"from": "user", "to": "admin"}),
    ("EventType", "Create", {"name": "Intro Call", "kind": "solo"}),
    ("EventType", "Update", {"changed": ["duration", "locations"]}),
    ("EventType", "Delete", {"name": "Old Demo"}),
    ("Integration", "Connect", {"integration": "salesforce"}),
    ("Integration", "Disconnect", {"integration": "zoom"}),
    ("SecuritySettings", "Update", {"setting": "sso_enforced", "value": True}),
    ("Webhook", "Create", {"scope": "organization"}),
    ("Contacts", "Export", {"rows": 250}),
    ("Group", "AddMember", {"group": "Sales"}),
)  # fmt: skip

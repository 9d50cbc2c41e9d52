# mhis web interface — English.
# Every message here exists in ru/ui.ftl and fr/ui.ftl too (a unit test of
# crates/mhis-server/src/ui/i18n.rs checks it).

## Layout
app-name = mhis
skip-to-content = Skip to main content
nav-label = Main menu
nav-search = Find a migrant
nav-register = Register a migrant
nav-sites = Sites
nav-users = Users
nav-audit = Audit trail
logout = Sign out
lang-label = Language
back-home = Back to the home page

## Errors
errors-heading = Please correct the following
error-forbidden = Not allowed
error-forbidden-text = Your role does not allow this action, or the form has expired. Reload the page and try again.
error-not-found = Page not found
error-not-found-text = There is no such page or record.
error-bad-request = Request not accepted
error-bad-request-text = The request could not be processed. Check the values and try again.
error-internal = Something went wrong
error-internal-text = An internal error occurred; it has been logged. Please try again later.

## Forms
field-required = required
choose = — choose —
none = — none —
not-recorded = — not recorded —
yes = Yes
no = No

## Login
login-title = Sign in
login-legend = Your account
login-username = User name
login-password = Password
login-submit = Sign in
login-invalid = The user name or password is wrong.
login-locked = Too many failed sign-in attempts. The account is locked until { $until }.
login-rate-limited = Too many sign-in attempts from this computer. Wait a few minutes and try again.
login-expired = The sign-in form has expired. Please sign in again.

## Home
welcome-title = Welcome
welcome-text = Your role gives no access to migrants' records. Use the menu to reach the pages you may use.

## Search
search-title = Find a migrant
search-legend = Search the registry
search-name = Name
search-name-hint = In any script: Рахимов finds Rakhimov.
search-submit = Search
search-results = Results: { $count }
search-none = No migrant matches. Check the spelling, or register the person.
invalid-search-name = Enter at least one letter of the name.
col-name = Name
col-latin = Name in Latin letters
col-why = Why it may be the same person

## Migrant fields
field-registration_number = Registration number
field-site = Site
field-family_name = Family name
field-given_names = Given names
field-family_name_latin = Family name in Latin letters
field-given_names_latin = Given names in Latin letters
field-sex = Sex
field-birth_date = Date of birth
field-nationality = Nationality
field-document = Travel document
field-document_kind = Document type
field-document_number = Document number
field-document_country = Issuing country
field-phone = Phone
field-preferred_language = Preferred language
hint-latin = As in the document's machine-readable zone; leave empty to transliterate automatically.
hint-birth_date = YYYY-MM-DD, or YYYY-MM or YYYY when only part is known.
hint-country = Two-letter ISO country code, for example TJ.
hint-phone = International form, for example +992 93 123 45 67.
hint-language = Language code, for example tg or ru.
sex-female = Female
sex-male = Male
sex-other = Unspecified (X)
document-passport = Passport
document-national_id = National identity card
document-refugee_travel_document = Refugee travel document
document-other = Other document

## Registration
register-title = Register a migrant
register-person = Person
register-document = Travel document
register-contact = Contact
register-submit = Register
registered-title = Migrant registered
registered-text = The record has been created:
duplicates-title = Possible duplicates
duplicates-text = These records may be the same person. Check them before opening an assessment.
duplicate-same-document = same travel document
duplicate-same-name = same name and date of birth
invalid-site_id = Choose one of your sites.
invalid-family_name = Enter the family name (at most 100 characters).
invalid-given_names = Enter the given names (at most 100 characters).
invalid-family_name_latin = Use Latin letters only.
invalid-given_names_latin = Use Latin letters only.
invalid-sex = Choose the sex shown in the document.
invalid-birth_date = Enter a real date as YYYY-MM-DD (or YYYY-MM, or YYYY), not in the future and not before 1900.
invalid-nationality = Enter a two-letter ISO country code, for example TJ.
invalid-document_kind = Choose the document type.
invalid-document_number = Enter 1 to 20 Latin letters or digits.
invalid-document_country = Enter the issuing country as a two-letter ISO code.
invalid-phone = Enter the phone number in international form, starting with +.
invalid-preferred_language = Enter a language code such as tg, ru or uz.
invalid-migrant_id = This migrant cannot be assessed here.

## Migrant page and assessments
assessments-title = Assessments
assessments-none = No assessment yet.
open-title = Open an assessment
open-legend = New assessment
open-submit = Open the assessment
field-purpose = Purpose
field-destination = Destination country
field-protocol = Protocol
field-assessment_date = Assessment date
field-status = Status
hint-assessment_date = Leave empty for today.
invalid-purpose = Choose the purpose of the assessment.
invalid-destination = Enter the destination as a two-letter ISO country code, for example RU.
invalid-protocol = Choose a protocol.
invalid-assessment_date = Enter a date within the last year, not in the future.
purpose-labour = Labour migration
purpose-resettlement = Refugee resettlement
purpose-immigrant_visa = Immigrant visa
purpose-student = Student visa
purpose-other = Other
status-open = Open
status-complete = Complete
status-finalised = Finalised

## Assessment page
assessment-title = Assessment
decision-title = Protocol decision
decision-outcome = Provisional outcome
decision-valid-until = Certificate valid until
decision-due = Still due
decision-due-none = Nothing is due.
decision-classes = Classification
decision-referrals = Referrals
decision-reasons = Reasons (rules applied)
decision-facts = facts read
results-title = Results
results-none = Nothing recorded yet.
results-record = Record: { $section }
results-submit = Save results
col-test = Test or question
col-value = Result
col-recorded = Recorded by
record-nothing = Fill in at least one result before saving.
record-conflict = Someone else has just recorded one of these results. The page shows the current values.
invalid-already-recorded = This result is already recorded.
invalid-boolean = Choose yes or no.
invalid-coded = Choose one of the listed values.
invalid-integer = Enter a whole number from { $min } to { $max }.
invalid-decimal = Enter a number from { $min } to { $max }.
invalid-text = Enter at most { $max } characters.
invalid-date = Enter a date as YYYY-MM-DD.
hint-range = From { $min } to { $max }
outcome-cleared = Cleared
outcome-cleared_with_follow_up = Cleared, with follow-up
outcome-not_cleared = Not cleared
outcome-pending = Pending: results still due
outcome-unavailable = No decision: the protocol is not loaded
section-history = History
section-examination = Examination
section-radiology = Radiology
section-laboratory = Laboratory
section-context = Context
unit-mmhg = mm Hg
unit-per-100k = per 100,000
unit-mm = mm
unit-cm = cm
unit-kg = kg
fact-age = Age
fact-sex = Sex
fact-hiv-retest = Repeat HIV testing
class-key-tb = Tuberculosis
referral-hepatitis_care = Hepatitis care
referral-hiv_care = HIV care
referral-leprosy_treatment = Leprosy treatment
referral-ltbi_evaluation = Latent TB infection evaluation
referral-narcology = Narcology
referral-syphilis_treatment = Syphilis treatment
referral-tb_evaluation = TB evaluation
referral-tb_follow_up_on_arrival = TB follow-up on arrival
referral-tb_treatment = TB treatment

## Roles
role-admin = Administrator
role-registrar = Registrar
role-clinician = Clinician
role-lab = Laboratory
role-radiologist = Radiologist
role-data_manager = Data manager
role-counsellor = Counsellor
role-border_officer = Border officer
role-trainer = Trainer
role-verifier = Certificate verifier

## Sites
sites-title = Sites
sites-new = New site
sites-submit = Create the site
field-site-code = Code
field-site-name = Name
field-site-kind = Kind
field-country = Country
hint-site-code = For example TJ-DYU-01.
site-kind-assessment_centre = Assessment centre
site-kind-laboratory = Laboratory
site-kind-radiology = Radiology
site-kind-point_of_entry = Point of entry
site-kind-health_authority = Health authority
site-kind-treatment_centre = Treatment centre
invalid-site-code = Enter a code of capital letters, digits and hyphens, for example TJ-DYU-01.
invalid-site-code-taken = A site with this code already exists.
invalid-site-kind = Choose the kind of site.
invalid-site-country = Enter a two-letter ISO country code.
invalid-site-name = Enter the site's name.

## Users
users-title = Users
users-new = New user
users-submit = Create the user
field-username = User name
field-display_name = Full name
field-role = Role
field-sites = Sites
field-password = Password
field-language = Interface language
field-national = National scope (every site)
hint-national = Otherwise tick the user's sites.
hint-username = 3 to 32 lower-case letters, digits, dots, hyphens or underscores.
hint-password = At least 10 characters; a passphrase is best.
scope-national = National
invalid-user-username = Use 3 to 32 lower-case letters, digits, dots, hyphens or underscores.
invalid-username-taken = This user name is already taken.
invalid-user-display_name = Enter the person's full name.
invalid-user-role = Choose a role.
invalid-user-sites = Tick at least one site, or choose national scope.
invalid-user-national = A national user has no site list: untick the sites.
invalid-user-password = The password must be 10 to 128 characters long.

## Audit trail
audit-title = Audit trail
audit-filters = Filters
audit-actor = User
audit-action = Action
audit-entity = Record type
audit-entity-id = Record id
audit-origin = Address
audit-at = Time
audit-submit = Filter
audit-count = Entries: { $count }
hint-audit-action = The beginning of an action, for example migrant. or login.
pager-label = Pages
pager-prev = Previous page
pager-next = Next page
pager-page = Page { $page }

## Certificate verification (public page)
verify-title = Verify a health certificate
verify-intro = Paste the text of the certificate's QR code (it starts with MHC1: or HC1:), or upload a photo of the QR code. Nothing you send is stored.
verify-text-label = QR code text
verify-photo-label = Photo of the QR code (PNG or JPEG, up to 8 MB)
verify-submit = Verify
verify-no-input = Paste the QR code text or choose a photo.
verify-photo-unreadable = No QR code could be read from this photo. Try a sharper, well-lit photo, or paste the text.
verify-photo-type = Only PNG and JPEG photos can be read.
verify-result = Result
verify-stage = Failed at: { $stage }
verdict-valid = Valid: the certificate is genuine and in force.
verdict-malformed = Not a readable certificate.
verdict-unknown_key = Not issued by a trusted clinic (unknown signing key).
verdict-bad_signature = Forged or altered: the signature does not match.
verdict-key_not_allowed = The signing key was not allowed to issue this certificate.
verdict-not_yet_valid = Not valid yet.
verdict-expired = Expired.
verdict-revoked = Revoked by the issuer.
verdict-trust_list_stale = The trust list is out of date; it must be refreshed before certificates can be checked.
cert-name = Name (travel document)
cert-name-latin = Name (Latin)
cert-dob = Date of birth
cert-id = Certificate number
cert-assessed = Assessment date
cert-destination = Destination
cert-outcome = Outcome
cert-valid-until = Valid until
cert-site = Issued by
nav-verify = Verify a certificate

## Physician sign-off and certificates
signoff-title = Physician sign-off
signoff-outcome-label = Final outcome
signoff-reason-label = Reason
signoff-reason-hint = Required when the outcome is more severe than the protocol’s.
signoff-submit = Finalise
signoff-final = Final outcome
signoff-engine = Protocol outcome
signoff-by = Finalised by
signoff-reason = Reason
signoff-needs-reason = Give a reason: the outcome is more severe than the protocol’s, or the assessment is amended.
signoff-too-low = The final outcome may not be less severe than the protocol’s.
signoff-pending = Results are still due: only “not cleared” can be given before they are in.
signoff-already = The assessment is already finalised.
amend-reason-label = Reason for re-opening (amendment)
amend-submit = Re-open (amend)
cert-title = Certificates
cert-none = No certificate issued.
cert-issue = Issue certificate
cert-revoked = revoked
verify-photo-too-large = The photo is larger than 8 MB. Take a smaller one, or paste the text.

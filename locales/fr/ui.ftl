# Interface web de mhis — français.
# Chaque message existe aussi dans en/ui.ftl et ru/ui.ftl (un test unitaire
# de crates/mhis-server/src/ui/i18n.rs le vérifie).

## Layout
app-name = mhis
skip-to-content = Aller au contenu principal
nav-label = Menu principal
nav-search = Rechercher un migrant
nav-register = Enregistrer un migrant
nav-sites = Sites
nav-users = Utilisateurs
nav-audit = Journal d’audit
logout = Se déconnecter
lang-label = Langue
back-home = Retour à l’accueil

## Errors
errors-heading = Veuillez corriger les points suivants
error-forbidden = Action non autorisée
error-forbidden-text = Votre rôle ne permet pas cette action, ou le formulaire a expiré. Rechargez la page et réessayez.
error-not-found = Page introuvable
error-not-found-text = Cette page ou cet enregistrement n’existe pas.
error-bad-request = Requête refusée
error-bad-request-text = La requête n’a pas pu être traitée. Vérifiez les valeurs et réessayez.
error-internal = Une erreur s’est produite
error-internal-text = Une erreur interne s’est produite ; elle a été journalisée. Réessayez plus tard.

## Forms
field-required = obligatoire
choose = — choisir —
none = — aucun —
not-recorded = — non saisi —
yes = Oui
no = Non

## Login
login-title = Connexion
login-legend = Votre compte
login-username = Nom d’utilisateur
login-password = Mot de passe
login-submit = Se connecter
login-invalid = Le nom d’utilisateur ou le mot de passe est incorrect.
login-locked = Trop de tentatives de connexion échouées. Le compte est verrouillé jusqu’au { $until }.
login-rate-limited = Trop de tentatives de connexion depuis cet ordinateur. Attendez quelques minutes et réessayez.
login-expired = Le formulaire de connexion a expiré. Veuillez vous reconnecter.

## Home
welcome-title = Bienvenue
welcome-text = Votre rôle ne donne pas accès aux dossiers des migrants. Utilisez le menu pour atteindre les pages qui vous sont ouvertes.

## Search
search-title = Rechercher un migrant
search-legend = Rechercher dans le registre
search-name = Nom
search-name-hint = Dans toute écriture : « Рахимов » trouve « Rakhimov ».
search-submit = Rechercher
search-results = Résultats : { $count }
search-none = Aucun migrant ne correspond. Vérifiez l’orthographe ou enregistrez la personne.
invalid-search-name = Saisissez au moins une lettre du nom.
col-name = Nom
col-latin = Nom en lettres latines
col-why = Pourquoi ce peut être la même personne

## Migrant fields
field-registration_number = Numéro d’enregistrement
field-site = Site
field-family_name = Nom de famille
field-given_names = Prénoms
field-family_name_latin = Nom de famille en lettres latines
field-given_names_latin = Prénoms en lettres latines
field-sex = Sexe
field-birth_date = Date de naissance
field-nationality = Nationalité
field-document = Document de voyage
field-document_kind = Type de document
field-document_number = Numéro du document
field-document_country = Pays de délivrance
field-phone = Téléphone
field-preferred_language = Langue préférée
hint-latin = Comme dans la zone de lecture automatique du document ; laissez vide pour translittérer automatiquement.
hint-birth_date = AAAA-MM-JJ, ou AAAA-MM ou AAAA si seule une partie est connue.
hint-country = Code pays ISO à deux lettres, par exemple TJ.
hint-phone = Au format international, par exemple +992 93 123 45 67.
hint-language = Code de langue, par exemple tg ou ru.
sex-female = Féminin
sex-male = Masculin
sex-other = Non précisé (X)
document-passport = Passeport
document-national_id = Carte nationale d’identité
document-refugee_travel_document = Titre de voyage pour réfugié
document-other = Autre document

## Registration
register-title = Enregistrer un migrant
register-person = Personne
register-document = Document de voyage
register-contact = Contact
register-submit = Enregistrer
registered-title = Migrant enregistré
registered-text = Le dossier a été créé :
duplicates-title = Doublons possibles
duplicates-text = Ces dossiers peuvent concerner la même personne. Vérifiez-les avant d’ouvrir une évaluation.
duplicate-same-document = même document de voyage
duplicate-same-name = même nom et même date de naissance
invalid-site_id = Choisissez l’un de vos sites.
invalid-family_name = Saisissez le nom de famille (100 caractères au plus).
invalid-given_names = Saisissez les prénoms (100 caractères au plus).
invalid-family_name_latin = Utilisez uniquement des lettres latines.
invalid-given_names_latin = Utilisez uniquement des lettres latines.
invalid-sex = Choisissez le sexe indiqué sur le document.
invalid-birth_date = Saisissez une date réelle au format AAAA-MM-JJ (ou AAAA-MM, ou AAAA), ni future ni antérieure à 1900.
invalid-nationality = Saisissez un code pays ISO à deux lettres, par exemple TJ.
invalid-document_kind = Choisissez le type de document.
invalid-document_number = Saisissez de 1 à 20 lettres latines ou chiffres.
invalid-document_country = Saisissez le pays de délivrance en code ISO à deux lettres.
invalid-phone = Saisissez le numéro au format international, en commençant par +.
invalid-preferred_language = Saisissez un code de langue, par exemple tg, ru ou uz.
invalid-migrant_id = Ce migrant ne peut pas être évalué ici.

## Migrant page and assessments
assessments-title = Évaluations
assessments-none = Aucune évaluation pour l’instant.
open-title = Ouvrir une évaluation
open-legend = Nouvelle évaluation
open-submit = Ouvrir l’évaluation
field-purpose = Motif
field-destination = Pays de destination
field-protocol = Protocole
field-assessment_date = Date de l’évaluation
field-status = Statut
hint-assessment_date = Laissez vide pour aujourd’hui.
invalid-purpose = Choisissez le motif de l’évaluation.
invalid-destination = Saisissez la destination en code pays ISO à deux lettres, par exemple RU.
invalid-protocol = Choisissez un protocole.
invalid-assessment_date = Saisissez une date de l’année écoulée, non future.
purpose-labour = Migration de travail
purpose-resettlement = Réinstallation de réfugiés
purpose-immigrant_visa = Visa d’immigrant
purpose-student = Visa d’étudiant
purpose-other = Autre
status-open = Ouverte
status-complete = Complète
status-finalised = Validée

## Assessment page
assessment-title = Évaluation
decision-title = Décision du protocole
decision-outcome = Résultat provisoire
decision-valid-until = Certificat valable jusqu’au
decision-due = Reste à faire
decision-due-none = Plus rien n’est requis.
decision-classes = Classification
decision-referrals = Orientations
decision-reasons = Justification (règles appliquées)
decision-facts = données lues
results-title = Résultats
results-none = Rien n’est encore saisi.
results-record = Saisir : { $section }
results-submit = Enregistrer les résultats
col-test = Examen ou question
col-value = Résultat
col-recorded = Saisi par
record-nothing = Remplissez au moins un résultat avant d’enregistrer.
record-conflict = Quelqu’un vient de saisir l’un de ces résultats. La page affiche les valeurs actuelles.
invalid-already-recorded = Ce résultat est déjà saisi.
invalid-boolean = Choisissez oui ou non.
invalid-coded = Choisissez l’une des valeurs de la liste.
invalid-integer = Saisissez un nombre entier de { $min } à { $max }.
invalid-decimal = Saisissez un nombre de { $min } à { $max }.
invalid-text = Saisissez { $max } caractères au plus.
invalid-date = Saisissez une date au format AAAA-MM-JJ.
hint-range = De { $min } à { $max }
outcome-cleared = Apte
outcome-cleared_with_follow_up = Apte, avec suivi
outcome-not_cleared = Inapte
outcome-pending = En attente : des résultats manquent
outcome-unavailable = Pas de décision : le protocole n’est pas chargé
section-history = Antécédents
section-examination = Examen clinique
section-radiology = Radiologie
section-laboratory = Laboratoire
section-context = Contexte
unit-mmhg = mm Hg
unit-per-100k = pour 100 000
unit-mm = mm
unit-cm = cm
unit-kg = kg
fact-age = Âge
fact-sex = Sexe
fact-hiv-retest = Nouveau test VIH
class-key-tb = Tuberculose
referral-hepatitis_care = Prise en charge de l’hépatite
referral-hiv_care = Prise en charge du VIH
referral-leprosy_treatment = Traitement de la lèpre
referral-ltbi_evaluation = Bilan d’infection tuberculeuse latente
referral-narcology = Addictologie
referral-syphilis_treatment = Traitement de la syphilis
referral-tb_evaluation = Bilan de tuberculose
referral-tb_follow_up_on_arrival = Suivi de la tuberculose à l’arrivée
referral-tb_treatment = Traitement de la tuberculose

## Roles
role-admin = Administrateur
role-registrar = Agent d’enregistrement
role-clinician = Clinicien
role-lab = Laboratoire
role-radiologist = Radiologue
role-data_manager = Gestionnaire de données
role-counsellor = Conseiller psychosocial
role-border_officer = Agent de la frontière
role-trainer = Formateur
role-verifier = Vérificateur de certificats

## Sites
sites-title = Sites
sites-new = Nouveau site
sites-submit = Créer le site
field-site-code = Code
field-site-name = Nom
field-site-kind = Type
field-country = Pays
hint-site-code = Par exemple TJ-DYU-01.
site-kind-assessment_centre = Centre d’évaluation
site-kind-laboratory = Laboratoire
site-kind-radiology = Radiologie
site-kind-point_of_entry = Point d’entrée
site-kind-health_authority = Autorité sanitaire
site-kind-treatment_centre = Centre de traitement
invalid-site-code = Saisissez un code de majuscules, chiffres et tirets, par exemple TJ-DYU-01.
invalid-site-code-taken = Un site porte déjà ce code.
invalid-site-kind = Choisissez le type de site.
invalid-site-country = Saisissez un code pays ISO à deux lettres.
invalid-site-name = Saisissez le nom du site.

## Users
users-title = Utilisateurs
users-new = Nouvel utilisateur
users-submit = Créer l’utilisateur
field-username = Nom d’utilisateur
field-display_name = Nom complet
field-role = Rôle
field-sites = Sites
field-password = Mot de passe
field-language = Langue de l’interface
field-national = Portée nationale (tous les sites)
hint-national = Sinon, cochez les sites de l’utilisateur.
hint-username = De 3 à 32 lettres minuscules, chiffres, points, tirets ou tirets bas.
hint-password = Au moins 10 caractères ; une phrase de passe est idéale.
scope-national = Nationale
invalid-user-username = Utilisez de 3 à 32 lettres minuscules, chiffres, points, tirets ou tirets bas.
invalid-username-taken = Ce nom d’utilisateur est déjà pris.
invalid-user-display_name = Saisissez le nom complet de la personne.
invalid-user-role = Choisissez un rôle.
invalid-user-sites = Cochez au moins un site, ou choisissez la portée nationale.
invalid-user-national = Un utilisateur national n’a pas de liste de sites : décochez les sites.
invalid-user-password = Le mot de passe doit compter de 10 à 128 caractères.

## Audit trail
audit-title = Journal d’audit
audit-filters = Filtres
audit-actor = Utilisateur
audit-action = Action
audit-entity = Type d’enregistrement
audit-entity-id = Identifiant de l’enregistrement
audit-origin = Adresse
audit-at = Heure
audit-submit = Filtrer
audit-count = Entrées : { $count }
hint-audit-action = Début du nom d’une action, par exemple migrant. ou login.
pager-label = Pages
pager-prev = Page précédente
pager-next = Page suivante
pager-page = Page { $page }

## Certificate verification (public page)
verify-title = Vérifier un certificat médical
verify-intro = Collez le texte du code QR du certificat (il commence par MHC1: ou HC1:), ou envoyez une photo du code QR. Rien de ce que vous envoyez n’est conservé.
verify-text-label = Texte du code QR
verify-photo-label = Photo du code QR (PNG ou JPEG, 8 Mo au plus)
verify-submit = Vérifier
verify-no-input = Collez le texte du code QR ou choisissez une photo.
verify-photo-unreadable = Aucun code QR n’a pu être lu sur cette photo. Essayez une photo plus nette et bien éclairée, ou collez le texte.
verify-photo-type = Seules les photos PNG et JPEG peuvent être lues.
verify-result = Résultat
verify-stage = Échec à l’étape : { $stage }
verdict-valid = Valide : le certificat est authentique et en vigueur.
verdict-malformed = Ce n’est pas un certificat lisible.
verdict-unknown_key = Non délivré par une clinique de confiance (clé de signature inconnue).
verdict-bad_signature = Falsifié ou modifié : la signature ne correspond pas.
verdict-key_not_allowed = La clé de signature n’était pas autorisée à délivrer ce certificat.
verdict-not_yet_valid = Pas encore valide.
verdict-expired = Expiré.
verdict-revoked = Révoqué par l’émetteur.
verdict-trust_list_stale = La liste de confiance est périmée ; elle doit être mise à jour avant de vérifier des certificats.
cert-name = Nom (document de voyage)
cert-name-latin = Nom (en caractères latins)
cert-dob = Date de naissance
cert-id = Numéro du certificat
cert-assessed = Date de l’examen
cert-destination = Destination
cert-outcome = Conclusion
cert-valid-until = Valable jusqu’au
cert-site = Délivré par
nav-verify = Vérifier un certificat

## Physician sign-off and certificates
signoff-title = Validation par le médecin
signoff-outcome-label = Conclusion finale
signoff-reason-label = Motif
signoff-reason-hint = Obligatoire si la conclusion est plus sévère que celle du protocole.
signoff-submit = Valider
signoff-final = Conclusion finale
signoff-engine = Conclusion du protocole
signoff-by = Validé par
signoff-reason = Motif
signoff-needs-reason = Indiquez un motif : la conclusion est plus sévère que celle du protocole, ou l’examen est modifié.
signoff-too-low = La conclusion finale ne peut pas être moins sévère que celle du protocole.
signoff-pending = Des résultats sont encore attendus : seule la conclusion « inapte » peut être donnée avant.
signoff-already = L’examen est déjà validé.
amend-reason-label = Motif de la réouverture (modification)
amend-submit = Rouvrir (modifier)
cert-title = Certificats
cert-none = Aucun certificat délivré.
cert-issue = Délivrer le certificat
cert-revoked = révoqué
verify-photo-too-large = La photo dépasse 8 Mo. Prenez-en une plus petite, ou collez le texte.

# Libellés du vocabulaire d’observations (vocabulary/observations.toml) —
# français.

## Codes
code-tb-symptoms = Tout symptôme de tuberculose (toux ≥ 2 semaines, hémoptysie, fièvre, sueurs nocturnes, perte de poids)
code-tb-contact = Contact étroit récent avec une personne atteinte de tuberculose contagieuse
code-tb-previous = Antécédents de tuberculose
code-tb-dot_completed = Traitement antituberculeux sous observation directe achevé
code-hiv-known_positive = Infection à VIH documentée avant cette évaluation
code-pregnant = Grossesse
code-syphilis-treated = Traitement adéquat de la syphilis documenté
code-body_temperature = Température corporelle
code-body_height = Taille
code-body_weight = Poids
code-bp-systolic = Pression artérielle systolique
code-bp-diastolic = Pression artérielle diastolique
code-tb-extrapulmonary = Signes cliniques de tuberculose extrapulmonaire
code-tb-clinical_diagnosis = Tuberculose diagnostiquée cliniquement sans confirmation bactériologique
code-leprosy-exam = Examen de la peau et des nerfs pour la lèpre
code-leprosy-confirmed = Lèpre confirmée
code-examination-notes = Notes d’examen
code-cxr = Lecture de la radiographie thoracique
code-igra = Test de libération d’interféron gamma (IGRA)
code-tst-mm = Induration de l’intradermoréaction à la tuberculine
code-sputum-smear-1 = Examen microscopique des crachats (BAAR), échantillon 1
code-sputum-smear-2 = Examen microscopique des crachats (BAAR), échantillon 2
code-sputum-smear-3 = Examen microscopique des crachats (BAAR), échantillon 3
code-sputum-culture-1 = Culture mycobactérienne des crachats, échantillon 1
code-sputum-culture-2 = Culture mycobactérienne des crachats, échantillon 2
code-sputum-culture-3 = Culture mycobactérienne des crachats, échantillon 3
code-xpert = Test moléculaire de M. tuberculosis (Xpert MTB/RIF ou équivalent)
code-hiv-a1 = Test VIH 1
code-hiv-a2 = Test VIH 2
code-hiv-a3 = Test VIH 3
code-syphilis-screen = Test de dépistage de la syphilis
code-syphilis-confirm = Test tréponémique de confirmation de la syphilis (TPPA/TPHA)
code-hbsag = Antigène de surface de l’hépatite B (AgHBs)
code-anti_hcv = Anticorps anti-hépatite C (anti-VHC)
code-narcology-drug_test = Dépistage de drogues
code-context-tb_incidence_per_100k = Incidence de la tuberculose estimée par l’OMS dans le pays de résidence

## Coded values
value-none = Aucun
value-treated_completed = Traité, traitement achevé
value-on_treatment = En traitement
value-no_signs = Aucun signe
value-suspected = Suspicion
value-normal = Normale
value-suggestive_tb = Évocatrice de tuberculose
value-abnormal_not_tb = Anormale, non évocatrice de tuberculose
value-inconclusive = Non concluante
value-positive = Positif
value-negative = Négatif
value-indeterminate = Indéterminé
value-mtb_positive = Culture positive à M. tuberculosis
value-ntm = Mycobactéries non tuberculeuses
value-contaminated = Contaminée
value-pending = En attente
value-mtb_detected = M. tuberculosis détecté
value-mtb_not_detected = M. tuberculosis non détecté
value-invalid = Invalide
value-reactive = Réactif
value-non_reactive = Non réactif

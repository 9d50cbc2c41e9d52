# Labels of the observation vocabulary (vocabulary/observations.toml) —
# English. Ids: `code-` and the code with dots as hyphens; `value-` and a
# coded value.

## Codes
code-tb-symptoms = Any TB symptom (cough ≥ 2 weeks, haemoptysis, fever, night sweats, weight loss)
code-tb-contact = Recent close contact of a person with infectious TB
code-tb-previous = TB history
code-tb-dot_completed = TB treatment under directly observed therapy completed
code-hiv-known_positive = Documented HIV infection before this assessment
code-pregnant = Pregnant
code-syphilis-treated = Adequate syphilis treatment documented
code-body_temperature = Body temperature
code-body_height = Body height
code-body_weight = Body weight
code-bp-systolic = Systolic blood pressure
code-bp-diastolic = Diastolic blood pressure
code-tb-extrapulmonary = Clinical evidence of extrapulmonary TB
code-tb-clinical_diagnosis = TB disease diagnosed clinically without bacteriological confirmation
code-leprosy-exam = Skin and nerve examination for leprosy
code-leprosy-confirmed = Leprosy confirmed
code-examination-notes = Examination notes
code-cxr = Chest X-ray reading
code-igra = Interferon-gamma release assay (IGRA)
code-tst-mm = Tuberculin skin test induration
code-sputum-smear-1 = Sputum AFB smear, specimen 1
code-sputum-smear-2 = Sputum AFB smear, specimen 2
code-sputum-smear-3 = Sputum AFB smear, specimen 3
code-sputum-culture-1 = Sputum mycobacterial culture, specimen 1
code-sputum-culture-2 = Sputum mycobacterial culture, specimen 2
code-sputum-culture-3 = Sputum mycobacterial culture, specimen 3
code-xpert = Molecular test for M. tuberculosis (Xpert MTB/RIF or similar)
code-hiv-a1 = HIV assay 1
code-hiv-a2 = HIV assay 2
code-hiv-a3 = HIV assay 3
code-syphilis-screen = Syphilis screening test
code-syphilis-confirm = Syphilis confirmatory treponemal test (TPPA/TPHA)
code-hbsag = Hepatitis B surface antigen (HBsAg)
code-anti_hcv = Hepatitis C antibody (anti-HCV)
code-narcology-drug_test = Drug test
code-context-tb_incidence_per_100k = WHO-estimated TB incidence in the country of residence

## Coded values
value-none = None
value-treated_completed = Treated, treatment completed
value-on_treatment = On treatment
value-no_signs = No signs
value-suspected = Suspected
value-normal = Normal
value-suggestive_tb = Suggestive of TB
value-abnormal_not_tb = Abnormal, not suggestive of TB
value-inconclusive = Inconclusive
value-positive = Positive
value-negative = Negative
value-indeterminate = Indeterminate
value-mtb_positive = M. tuberculosis grown
value-ntm = Non-tuberculous mycobacteria
value-contaminated = Contaminated
value-pending = Pending
value-mtb_detected = M. tuberculosis detected
value-mtb_not_detected = M. tuberculosis not detected
value-invalid = Invalid
value-reactive = Reactive
value-non_reactive = Non-reactive

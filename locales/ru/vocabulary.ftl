# Названия кодов словаря наблюдений (vocabulary/observations.toml) —
# русский язык.

## Codes
code-tb-symptoms = Любой симптом туберкулёза (кашель ≥ 2 недель, кровохарканье, лихорадка, ночная потливость, потеря веса)
code-tb-contact = Недавний тесный контакт с больным заразной формой туберкулёза
code-tb-previous = Туберкулёз в анамнезе
code-tb-dot_completed = Лечение туберкулёза под непосредственным наблюдением завершено
code-hiv-known_positive = ВИЧ-инфекция, документально подтверждённая до освидетельствования
code-pregnant = Беременность
code-syphilis-treated = Документально подтверждено адекватное лечение сифилиса
code-body_temperature = Температура тела
code-body_height = Рост
code-body_weight = Масса тела
code-bp-systolic = Систолическое артериальное давление
code-bp-diastolic = Диастолическое артериальное давление
code-tb-extrapulmonary = Клинические признаки внелёгочного туберкулёза
code-tb-clinical_diagnosis = Туберкулёз диагностирован клинически без бактериологического подтверждения
code-leprosy-exam = Осмотр кожи и нервов на лепру
code-leprosy-confirmed = Лепра подтверждена
code-examination-notes = Заметки к осмотру
code-cxr = Рентгенография органов грудной клетки
code-igra = Тест высвобождения гамма-интерферона (IGRA)
code-tst-mm = Проба Манту: размер папулы
code-sputum-smear-1 = Микроскопия мокроты на КУМ, образец 1
code-sputum-smear-2 = Микроскопия мокроты на КУМ, образец 2
code-sputum-smear-3 = Микроскопия мокроты на КУМ, образец 3
code-sputum-culture-1 = Посев мокроты на микобактерии, образец 1
code-sputum-culture-2 = Посев мокроты на микобактерии, образец 2
code-sputum-culture-3 = Посев мокроты на микобактерии, образец 3
code-xpert = Молекулярный тест на M. tuberculosis (Xpert MTB/RIF или аналог)
code-hiv-a1 = Тест на ВИЧ 1
code-hiv-a2 = Тест на ВИЧ 2
code-hiv-a3 = Тест на ВИЧ 3
code-syphilis-screen = Скрининговый тест на сифилис
code-syphilis-confirm = Подтверждающий трепонемный тест на сифилис (РПГА/TPPA)
code-hbsag = Поверхностный антиген гепатита B (HBsAg)
code-anti_hcv = Антитела к вирусу гепатита C (анти-HCV)
code-narcology-drug_test = Тест на наркотические вещества
code-context-tb_incidence_per_100k = Заболеваемость туберкулёзом в стране проживания по оценке ВОЗ

## Coded values
value-none = Нет
value-treated_completed = Лечение завершено
value-on_treatment = На лечении
value-no_signs = Признаков нет
value-suspected = Подозрение
value-normal = Норма
value-suggestive_tb = Подозрение на туберкулёз
value-abnormal_not_tb = Патология, не характерная для туберкулёза
value-inconclusive = Неопределённый результат
value-positive = Положительный
value-negative = Отрицательный
value-indeterminate = Неопределённый
value-mtb_positive = Рост M. tuberculosis
value-ntm = Нетуберкулёзные микобактерии
value-contaminated = Контаминация
value-pending = Ожидается
value-mtb_detected = M. tuberculosis обнаружены
value-mtb_not_detected = M. tuberculosis не обнаружены
value-invalid = Недействительный
value-reactive = Реактивный
value-non_reactive = Нереактивный

# Веб-интерфейс mhis — русский язык.
# Каждое сообщение есть также в en/ui.ftl и fr/ui.ftl (это проверяет
# модульный тест crates/mhis-server/src/ui/i18n.rs).

## Layout
app-name = mhis
skip-to-content = Перейти к основному содержанию
nav-label = Главное меню
nav-search = Найти мигранта
nav-register = Зарегистрировать мигранта
nav-sites = Учреждения
nav-users = Пользователи
nav-audit = Журнал аудита
logout = Выйти
lang-label = Язык
back-home = На главную страницу

## Errors
errors-heading = Исправьте, пожалуйста, следующее
error-forbidden = Действие запрещено
error-forbidden-text = Ваша роль не разрешает это действие, или срок действия формы истёк. Обновите страницу и повторите попытку.
error-not-found = Страница не найдена
error-not-found-text = Такой страницы или записи нет.
error-bad-request = Запрос не принят
error-bad-request-text = Запрос не удалось обработать. Проверьте значения и повторите попытку.
error-internal = Что-то пошло не так
error-internal-text = Произошла внутренняя ошибка; она записана в журнал. Повторите попытку позже.

## Forms
field-required = обязательно
choose = — выберите —
none = — нет —
not-recorded = — не внесено —
yes = Да
no = Нет

## Login
login-title = Вход в систему
login-legend = Ваша учётная запись
login-username = Имя пользователя
login-password = Пароль
login-submit = Войти
login-invalid = Неверное имя пользователя или пароль.
login-locked = Слишком много неудачных попыток входа. Учётная запись заблокирована до { $until }.
login-rate-limited = Слишком много попыток входа с этого компьютера. Подождите несколько минут и повторите попытку.
login-expired = Срок действия формы входа истёк. Войдите ещё раз.

## Home
welcome-title = Добро пожаловать
welcome-text = Ваша роль не даёт доступа к записям мигрантов. Воспользуйтесь меню, чтобы перейти к доступным вам страницам.

## Search
search-title = Найти мигранта
search-legend = Поиск в регистре
search-name = Имя
search-name-hint = В любой письменности: «Rakhimov» находит «Рахимов».
search-submit = Найти
search-results = Найдено: { $count }
search-none = Совпадений нет. Проверьте написание или зарегистрируйте человека.
invalid-search-name = Введите хотя бы одну букву имени.
col-name = ФИО
col-latin = ФИО латиницей
col-why = Почему это может быть тот же человек

## Migrant fields
field-registration_number = Регистрационный номер
field-site = Учреждение
field-family_name = Фамилия
field-given_names = Имя и отчество
field-family_name_latin = Фамилия латиницей
field-given_names_latin = Имя латиницей
field-sex = Пол
field-birth_date = Дата рождения
field-nationality = Гражданство
field-document = Документ
field-document_kind = Тип документа
field-document_number = Номер документа
field-document_country = Страна выдачи
field-phone = Телефон
field-preferred_language = Предпочитаемый язык
hint-latin = Как в машиночитаемой зоне документа; оставьте пустым для автоматической транслитерации.
hint-birth_date = ГГГГ-ММ-ДД, либо ГГГГ-ММ или ГГГГ, если известна только часть даты.
hint-country = Двухбуквенный код страны ISO, например TJ.
hint-phone = В международном формате, например +992 93 123 45 67.
hint-language = Код языка, например tg или ru.
sex-female = Женский
sex-male = Мужской
sex-other = Не указан (X)
document-passport = Паспорт
document-national_id = Удостоверение личности
document-refugee_travel_document = Проездной документ беженца
document-other = Другой документ

## Registration
register-title = Регистрация мигранта
register-person = Личные данные
register-document = Документ, удостоверяющий личность
register-contact = Контакты
register-submit = Зарегистрировать
registered-title = Мигрант зарегистрирован
registered-text = Запись создана:
duplicates-title = Возможные дубликаты
duplicates-text = Эти записи могут относиться к тому же человеку. Проверьте их, прежде чем открывать освидетельствование.
duplicate-same-document = тот же документ
duplicate-same-name = то же имя и дата рождения
invalid-site_id = Выберите одно из ваших учреждений.
invalid-family_name = Введите фамилию (не более 100 символов).
invalid-given_names = Введите имя (не более 100 символов).
invalid-family_name_latin = Используйте только латинские буквы.
invalid-given_names_latin = Используйте только латинские буквы.
invalid-sex = Выберите пол, указанный в документе.
invalid-birth_date = Введите существующую дату в виде ГГГГ-ММ-ДД (или ГГГГ-ММ, или ГГГГ), не в будущем и не ранее 1900 года.
invalid-nationality = Введите двухбуквенный код страны ISO, например TJ.
invalid-document_kind = Выберите тип документа.
invalid-document_number = Введите от 1 до 20 латинских букв или цифр.
invalid-document_country = Введите страну выдачи двухбуквенным кодом ISO.
invalid-phone = Введите номер телефона в международном формате, начиная с +.
invalid-preferred_language = Введите код языка, например tg, ru или uz.
invalid-migrant_id = Этого мигранта нельзя освидетельствовать здесь.

## Migrant page and assessments
assessments-title = Освидетельствования
assessments-none = Освидетельствований пока нет.
open-title = Открыть освидетельствование
open-legend = Новое освидетельствование
open-submit = Открыть освидетельствование
field-purpose = Цель
field-destination = Страна назначения
field-protocol = Протокол
field-assessment_date = Дата освидетельствования
field-status = Статус
hint-assessment_date = Оставьте пустым для сегодняшней даты.
invalid-purpose = Выберите цель освидетельствования.
invalid-destination = Введите страну назначения двухбуквенным кодом ISO, например RU.
invalid-protocol = Выберите протокол.
invalid-assessment_date = Введите дату в пределах последнего года, не в будущем.
purpose-labour = Трудовая миграция
purpose-resettlement = Переселение беженцев
purpose-immigrant_visa = Иммиграционная виза
purpose-student = Студенческая виза
purpose-other = Другое
status-open = Открыто
status-complete = Завершено
status-finalised = Утверждено

## Assessment page
assessment-title = Освидетельствование
decision-title = Решение по протоколу
decision-outcome = Предварительный итог
decision-valid-until = Справка действительна до
decision-due = Ещё требуется
decision-due-none = Больше ничего не требуется.
decision-classes = Классификация
decision-referrals = Направления
decision-reasons = Обоснование (применённые правила)
decision-facts = учтённые данные
results-title = Результаты
results-none = Пока ничего не внесено.
results-record = Внести: { $section }
results-submit = Сохранить результаты
col-test = Исследование или вопрос
col-value = Результат
col-recorded = Кто внёс
record-nothing = Заполните хотя бы один результат перед сохранением.
record-conflict = Один из этих результатов только что внёс другой сотрудник. На странице показаны текущие значения.
invalid-already-recorded = Этот результат уже внесён.
invalid-boolean = Выберите «да» или «нет».
invalid-coded = Выберите одно из значений списка.
invalid-integer = Введите целое число от { $min } до { $max }.
invalid-decimal = Введите число от { $min } до { $max }.
invalid-text = Введите не более { $max } символов.
invalid-date = Введите дату в виде ГГГГ-ММ-ДД.
hint-range = От { $min } до { $max }
outcome-cleared = Допущен
outcome-cleared_with_follow_up = Допущен, с последующим наблюдением
outcome-not_cleared = Не допущен
outcome-pending = Ожидание: требуются результаты
outcome-unavailable = Решения нет: протокол не загружен
section-history = Анамнез
section-examination = Осмотр
section-radiology = Рентгенология
section-laboratory = Лаборатория
section-context = Контекст
unit-mmhg = мм рт. ст.
unit-per-100k = на 100 000
unit-mm = мм
unit-cm = см
unit-kg = кг
fact-age = Возраст
fact-sex = Пол
fact-hiv-retest = Повторное тестирование на ВИЧ
class-key-tb = Туберкулёз
referral-hepatitis_care = Лечение гепатита
referral-hiv_care = Лечение ВИЧ-инфекции
referral-leprosy_treatment = Лечение лепры
referral-ltbi_evaluation = Обследование на латентную туберкулёзную инфекцию
referral-narcology = Нарколог
referral-syphilis_treatment = Лечение сифилиса
referral-tb_evaluation = Обследование на туберкулёз
referral-tb_follow_up_on_arrival = Наблюдение по туберкулёзу по прибытии
referral-tb_treatment = Лечение туберкулёза

## Roles
role-admin = Администратор
role-registrar = Регистратор
role-clinician = Врач
role-lab = Лаборатория
role-radiologist = Рентгенолог
role-data_manager = Аналитик данных
role-counsellor = Психолог-консультант
role-border_officer = Пограничный служащий
role-trainer = Преподаватель
role-verifier = Проверяющий справки

## Sites
sites-title = Учреждения
sites-new = Новое учреждение
sites-submit = Создать учреждение
field-site-code = Код
field-site-name = Название
field-site-kind = Тип
field-country = Страна
hint-site-code = Например, TJ-DYU-01.
site-kind-assessment_centre = Центр освидетельствования
site-kind-laboratory = Лаборатория
site-kind-radiology = Рентгенологический кабинет
site-kind-point_of_entry = Пункт пропуска
site-kind-health_authority = Орган здравоохранения
site-kind-treatment_centre = Лечебное учреждение
invalid-site-code = Введите код из заглавных латинских букв, цифр и дефисов, например TJ-DYU-01.
invalid-site-code-taken = Учреждение с таким кодом уже есть.
invalid-site-kind = Выберите тип учреждения.
invalid-site-country = Введите двухбуквенный код страны ISO.
invalid-site-name = Введите название учреждения.

## Users
users-title = Пользователи
users-new = Новый пользователь
users-submit = Создать пользователя
field-username = Имя пользователя
field-display_name = ФИО
field-role = Роль
field-sites = Учреждения
field-password = Пароль
field-language = Язык интерфейса
field-national = Национальный уровень доступа (все учреждения)
hint-national = Иначе отметьте учреждения пользователя.
hint-username = От 3 до 32 строчных латинских букв, цифр, точек, дефисов или подчёркиваний.
hint-password = Не менее 10 символов; лучше всего — парольная фраза.
scope-national = Национальный
invalid-user-username = Используйте от 3 до 32 строчных латинских букв, цифр, точек, дефисов или подчёркиваний.
invalid-username-taken = Это имя пользователя уже занято.
invalid-user-display_name = Введите ФИО сотрудника.
invalid-user-role = Выберите роль.
invalid-user-sites = Отметьте хотя бы одно учреждение или выберите национальный уровень.
invalid-user-national = У пользователя национального уровня нет списка учреждений: снимите отметки.
invalid-user-password = Пароль должен содержать от 10 до 128 символов.

## Audit trail
audit-title = Журнал аудита
audit-filters = Фильтры
audit-actor = Пользователь
audit-action = Действие
audit-entity = Тип записи
audit-entity-id = Идентификатор записи
audit-origin = Адрес
audit-at = Время
audit-submit = Применить
audit-count = Записей: { $count }
hint-audit-action = Начало названия действия, например migrant. или login.
pager-label = Страницы
pager-prev = Предыдущая страница
pager-next = Следующая страница
pager-page = Страница { $page }

## Certificate verification (public page)
verify-title = Проверка медицинского сертификата
verify-intro = Вставьте текст QR-кода сертификата (он начинается с MHC1: или HC1:) или загрузите фотографию QR-кода. Отправленные данные не сохраняются.
verify-text-label = Текст QR-кода
verify-photo-label = Фотография QR-кода (PNG или JPEG, до 8 МБ)
verify-submit = Проверить
verify-no-input = Вставьте текст QR-кода или выберите фотографию.
verify-photo-unreadable = На этой фотографии не удалось прочитать QR-код. Сделайте более чёткий снимок при хорошем освещении или вставьте текст.
verify-photo-type = Можно загрузить только фотографии PNG и JPEG.
verify-result = Результат
verify-stage = Ошибка на этапе: { $stage }
verdict-valid = Действителен: сертификат подлинный и действует.
verdict-malformed = Это не читаемый сертификат.
verdict-unknown_key = Выдан не доверенной клиникой (неизвестный ключ подписи).
verdict-bad_signature = Подделан или изменён: подпись не совпадает.
verdict-key_not_allowed = Ключ подписи не имел права выдавать этот сертификат.
verdict-not_yet_valid = Ещё не действует.
verdict-expired = Срок действия истёк.
verdict-revoked = Отозван выдавшей организацией.
verdict-trust_list_stale = Список доверия устарел; его нужно обновить, прежде чем проверять сертификаты.
cert-name = Имя (по документу)
cert-name-latin = Имя (латиницей)
cert-dob = Дата рождения
cert-id = Номер сертификата
cert-assessed = Дата обследования
cert-destination = Страна назначения
cert-outcome = Заключение
cert-valid-until = Действителен до
cert-site = Выдан
nav-verify = Проверить сертификат

## Physician sign-off and certificates
signoff-title = Заключение врача
signoff-outcome-label = Итоговое заключение
signoff-reason-label = Обоснование
signoff-reason-hint = Обязательно, если заключение строже, чем по протоколу.
signoff-submit = Утвердить
signoff-final = Итоговое заключение
signoff-engine = Заключение по протоколу
signoff-by = Утвердил
signoff-reason = Обоснование
signoff-needs-reason = Укажите обоснование: заключение строже, чем по протоколу, или обследование изменяется.
signoff-too-low = Итоговое заключение не может быть мягче, чем по протоколу.
signoff-pending = Ещё нужны результаты: до их получения можно дать только заключение «не допущен».
signoff-already = Обследование уже утверждено.
amend-reason-label = Причина повторного открытия (изменения)
amend-submit = Открыть повторно (изменить)
cert-title = Сертификаты
cert-none = Сертификат не выдан.
cert-issue = Выдать сертификат
cert-revoked = отозван
verify-photo-too-large = Фотография больше 8 МБ. Сделайте снимок меньшего размера или вставьте текст.

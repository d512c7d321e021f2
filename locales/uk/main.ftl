# Budbringer — Ukrainian. Plain language: short, kind, concrete.

## API problems: titles (RFC 9457 "title")
problem-bad-request = Запит неможливо прочитати
problem-unauthorized = Ви не ввійшли
problem-forbidden = У вас немає доступу
problem-not-found = Не знайдено
problem-method-not-allowed = Цей метод тут не дозволено
problem-conflict = Конфлікт
problem-gone = Цього більше немає
problem-too-large = Запит завеликий
problem-unsupported-media-type = Неправильний тип вмісту
problem-invalid = Деякі поля заповнено неправильно
problem-rate-limited = Забагато запитів
problem-unavailable = Служба тимчасово недоступна
problem-internal = У нас сталася помилка

## API problems: explanations ("detail")
detail-malformed-json = Вміст не є коректним JSON: { $problem }
detail-json-content-type = Надішліть вміст як JSON із Content-Type: application/json.
detail-missing-api-key = Надішліть свій ключ API в заголовку Authorization: Bearer <ключ>.
detail-bad-api-key = Ключ API невідомий або відкликаний.
detail-letter-not-found = У вашої установи немає листа з цим id.
detail-webhook-not-found = У вашої установи немає webhook з цим id.
detail-content-deleted = Вміст листа видалено за правилом зберігання. Хронологію листа збережено.
detail-route-not-found = Такої адреси в API немає.
detail-method-not-allowed = Ця адреса існує, але не з цим методом HTTP.
detail-idempotency-mismatch = Цей Idempotency-Key уже використано для іншого запиту. Для нового листа використайте новий ключ.
detail-cannot-cancel = Лист не можна скасувати, бо він уже має статус { $status }.
detail-body-too-large = Запит завеликий: дозволено не більше { $max } байт.
detail-too-large-fields = Один або кілька документів завеликі, або документів забагато.
detail-invalid-fields = Виправте поля зі списку "errors" і спробуйте ще раз.
detail-rate-limited = Зачекайте { $seconds } с і спробуйте ще раз.
detail-unavailable = Зараз немає зв'язку з базою даних. Нічого не збережено. Спробуйте ще раз трохи згодом.
detail-internal = Спробуйте ще раз трохи згодом. Помилку записано в журнал.

## Problems with single fields
error-required = Це поле треба заповнити.
error-too-long = У полі може бути не більше { $max } знаків.
error-control-chars = Поле не може містити керівних символів.
error-cpr-format = Номер CPR має 10 цифр (ДДММРРXXXX, можна з дефісом після дати).
error-cpr-date = Перші шість цифр номера CPR мають бути справжньою датою (ДДММРР).
error-body-or-document = Лист повинен мати текст або хоча б один документ.
error-date-format = Напишіть дату у форматі РРРР-ММ-ДД.
error-date-past = Строк не може бути раніше за сьогоднішній день.
error-too-many-documents = У листі може бути не більше { $max } документів.
error-document-too-large = Документ може мати не більше { $max } байт.
error-not-pdf = Документ не є файлом PDF.
error-pdf-encrypted = Файл PDF зашифровано або захищено паролем, тому його не можна ні надрукувати, ні додати до листа. Надішліть його без шифрування.
error-base64 = Вміст має бути закодовано в base64.
error-filename = Назва файлу не може містити скісних рисок чи керівних символів або починатися з крапки.
error-filename-pdf = Назва файлу має закінчуватися на .pdf.
error-country = Код країни — це дві великі літери (ISO 3166-1), наприклад DK.
error-postcode = Данський поштовий індекс має чотири цифри.
error-phone = Номер телефону має містити від 8 до 15 цифр.
error-email = Адреса e-mail недійсна.
error-url = Адреса має бути URL з http або https.
error-webhook-secret = Секрет має починатися з "whsec_", після чого йдуть від 24 до 64 байтів у кодуванні base64.
error-json-missing = Цього поля немає.
error-json-unknown-field = Це поле невідоме.
error-json-type = Поле має неправильний тип: { $problem }
error-query-value = Це значення не можна використати: { $problem }
detail-citizen-not-found = Немає громадянина з цим id.
error-language = Напишіть мову як код мови, наприклад da, en або uk.
error-letter-channel = Листи можуть надходити через digital_post, print або phone.
error-notice-channel = Повідомлення про нові листи можуть надходити через sms або email.
detail-alert-not-found = У вашої установи немає відкритого попередження з цим id.
detail-callback-not-found = У вашої установи немає відкритого дзвінка з цим id.
error-minutes = Хвилини мають бути числом від 0 до 600.
error-via = Напишіть спосіб малими літерами, наприклад counter, phone або letter.
error-category = Категорія може мати від 1 до 50 знаків: a-z, 0-9, _ і -.
error-office-hours = Напишіть години роботи як "mon-fri 09:00-15:00", а часовий пояс — наприклад, як Europe/Copenhagen.
error-helper-unreachable = Помічник повинен мати номер телефону або e-mail (повідомлення) чи адресу (копія).
error-helper-consent = Громадянин повинен погодитися на помічника (consent: true).
error-too-many-days = Не більше 366 неробочих днів.
error-idempotency-key = Idempotency-Key повинен мати від 1 до 255 видимих знаків.

## Messages to the citizen
callback-summary = Подзвоніть громадянину щодо листа "{ $subject }" від { $sender }.
callback-requested-summary = Громадянин відповів ДЗВІНОК на SMS-повідомлення про лист "{ $subject }" від { $sender } і хоче, щоб йому подзвонили.
callback-deadline = Строк: { $date }.
callback-language = Громадянин воліє читати мовою: { $language }.
callback-large-print = Громадянину потрібен великий шрифт.

## API documentation (/docs)
docs-title = Budbringer: API для установ
docs-intro = Надсилайте листи громадянам, стежте за доставкою, відкриттям та ескалацією й отримуйте події.
docs-auth = Кожен виклик у /v1 потребує ключа API в заголовку Authorization: Bearer <ключ>.
docs-openapi-link = Повний опис у форматі OpenAPI (JSON)
docs-operations = Виклики
docs-parameters = Параметри
docs-name = Назва
docs-in = Де
docs-description = Опис
docs-request = Вміст
docs-responses = Відповіді
docs-schemas = Типи даних
docs-field = Поле
docs-type = Тип
docs-required = обов'язкове
docs-problems = Типи помилок
docs-problems-intro = Помилки повертаються як application/problem+json (RFC 9457). Поле "type" вказує сюди, а "errors" називає кожне неправильне поле.

## Dates (a date in words, e.g. in deadlines)
date-long = { $day } { $month ->
        [jan] січня
        [feb] лютого
        [mar] березня
        [apr] квітня
        [may] травня
        [jun] червня
        [jul] липня
        [aug] серпня
        [sep] вересня
        [oct] жовтня
        [nov] листопада
       *[dec] грудня
    } { $year }

## The reading page (/l/…)
reading-from = Лист від { $sender }
reading-what-to-do = Що вам треба зробити
reading-deadline = Дайте відповідь до { $date }.
reading-deadline-extended = Ваш строк продовжено. Дайте відповідь до { $date }.
reading-documents = Документи
reading-content-deleted = Текст і документи цього листа видалено { $date }. Ми зберігаємо лист { $days } днів після того, як минув строк. Ви й надалі можете бачити, що сталося з листом.
reading-contact = Є питання? Зверніться до { $sender }: { $contact }.
detail-reading-link-not-found = Посилання не працює. Можливо, воно застаріло. Увійдіть у Digital Post, щоб прочитати лист.
reading-code-title = Отримайте код для свого листа
reading-code-explain = Посилання могли переслати комусь іншому. Тому спочатку ми надішлемо код на ваш телефон, номер якого закінчується на { $last }.
reading-code-send = Надіслати мені код
reading-code-label = Введіть код (6 цифр)
reading-code-open = Відкрити лист
reading-code-sent = Ми надіслали код на ваш телефон. Він діє 10 хвилин.
reading-code-wrong = Код неправильний. Спробуйте ще раз.
reading-code-expired = Код більше не діє. Попросіть новий код.
reading-code-too-many = Ви попросили забагато кодів. Зачекайте 15 хвилин і спробуйте ще раз.
reading-code-no-phone = У нас немає вашого номера телефону. Увійдіть у Digital Post, щоб прочитати лист, або зателефонуйте відправнику.
reading-code-sms = Ваш код для листа від { $sender }: { $code }. Нікому його не давайте.

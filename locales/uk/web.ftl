# Shared by every web page: the frame, the language switch and error pages.
web-site-citizen = Budbringer – ваша пошта від державних установ
web-site-staff = Budbringer – працівник
web-skip-link = Перейти до змісту
web-nav-label = Головне меню
web-language = Мова
web-logout = Вийти
web-footer = Потрібна допомога? Зателефонуйте до свого муніципалітету або прийдіть особисто.
web-error-title = Щось пішло не так
web-error-back = На головну сторінку
web-error-login = Будь ласка, увійдіть.
web-error-csrf = Ця сторінка застаріла. Поверніться, оновіть сторінку і спробуйте ще раз.
web-error-not-found = Ми не можемо знайти цю сторінку.
web-error-gone = Цей вміст видалено, його більше немає.
web-error-forbidden = У вас немає доступу до цього.
web-error-rate-limited = Ви спробували забагато разів. Зачекайте трохи і спробуйте ще раз.
web-error-login-failed = Нам не вдалося вас увійти.
web-error-unavailable = Система зараз зайнята. Спробуйте ще раз за хвилину.
web-error-internal = У нас сталася помилка. Спробуйте пізніше.

# OpenID Connect login (MitID through a broker, or the authority's own login)
web-oidc-not-configured = Вхід через MitID або через обліковий запис вашої роботи тут не налаштовано.
web-oidc-provider-unavailable = Зараз ми не можемо зв'язатися зі службою входу. Спробуйте ще раз трохи згодом.
web-oidc-cancelled = Ви скасували вхід. Можете спробувати ще раз, коли будете готові.
web-oidc-provider-error = Служба входу не змогла вас впустити. Спробуйте ще раз.
web-oidc-expired = Вхід тривав надто довго або його почали в іншому вікні. Спробуйте ще раз.
web-oidc-invalid = Ми не змогли підтвердити ваш вхід. Спробуйте ще раз.
web-oidc-no-identity = Служба входу не надіслала дані, потрібні, щоб вас знайти.

-- Names in any number of languages: each category's and status's names as the city pack gives
-- them ({"pl": …, "en": …, "uk": …}). name_pl and name_en stay, as the API has always had them.
ALTER TABLE categories ADD COLUMN names jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE statuses ADD COLUMN names jsonb NOT NULL DEFAULT '{}'::jsonb;
UPDATE categories SET names = jsonb_build_object('pl', name_pl, 'en', name_en);
UPDATE statuses SET names = jsonb_build_object('pl', name_pl, 'en', name_en);

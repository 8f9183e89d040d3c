import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import type { Locale, Localized } from './api';

/** Every text of the app, in both languages. Keys are grouped by page. */
const en = {
  'app.name': 'Palier',
  'app.skip': 'Skip to content',
  'nav.queue': 'Queue',
  'nav.portal': 'My incidents',
  'nav.report': 'Report a problem',
  'nav.matrix': 'Matrix',
  'nav.dashboard': 'Dashboard',
  'nav.users': 'Users',
  'nav.signOut': 'Sign out',
  'nav.language': 'Language',
  'signIn.title': 'Sign in to Palier',
  'signIn.email': 'E-mail',
  'signIn.password': 'Password',
  'signIn.submit': 'Sign in',
  'signIn.sso': 'Sign in with single sign-on (SSO)',
  'signIn.or': 'or',
  'signIn.sso_state': 'The single sign-on took too long or was interrupted. Try again.',
  'signIn.sso_cancelled': 'The single sign-on was cancelled or refused by your identity provider.',
  'signIn.sso_failed': 'The answer of your identity provider could not be verified. Try again, or ask your administrator.',
  'signIn.sso_unavailable': 'Your identity provider cannot be reached right now. Try again shortly.',
  'signIn.sso_email_unverified': 'Your identity provider has not verified your e-mail address, so it cannot sign you in to Palier.',
  'signIn.sso_unknown_user': 'No Palier account has your e-mail address. Ask your administrator for one.',
  'signIn.sso_user_disabled': 'Your Palier account is disabled. Ask your administrator.',
  'error.network': 'The server cannot be reached. Check your connection and try again.',
  'error.unauthorized': 'Your session has ended: sign in again.',
  'error.invalid_token': 'Your session has ended: sign in again.',
  'error.invalid_credentials': 'Wrong e-mail or password.',
  'error.forbidden': 'You are not allowed to do this.',
  'error.not_found': 'Not found.',
  'error.generic': 'Something went wrong ({{status}}). Your input is kept: try again.',
  'error.kept': 'Your input is kept.',
  'common.loading': 'Loading…',
  'common.save': 'Save',
  'common.cancel': 'Cancel',
  'common.none': 'None',
  'common.all': 'All',
  'common.tier': 'Tier',
  'common.category': 'Category',
  'common.priority': 'Priority',
  'common.status': 'Status',
  'common.search': 'Search',
  'common.requester': 'Requester',
  'common.assignee': 'Assignee',
  'common.you': 'you',
  'common.user': 'user #{{id}}',
  'common.version': 'version {{v}}',
  'status.new': 'New',
  'status.acknowledged': 'Acknowledged',
  'status.in_progress': 'In progress',
  'status.pending': 'On hold',
  'status.resolved': 'Resolved',
  'status.closed': 'Closed',
  'queue.title': 'Tier queue',
  'queue.empty': 'No open incident matches.',
  'queue.breach': 'Breach in',
  'queue.breached': 'Breached {{d}} ago',
  'queue.paused': 'Paused',
  'queue.noTarget': 'No running target',
  'queue.saveView': 'Save view',
  'queue.viewName': 'View name',
  'queue.views': 'Saved views',
  'queue.live': 'Updates live',
  'queue.count': '{{n}} open incident(s)',
  'incident.description': 'Description',
  'incident.ladder': 'Tier ladder',
  'incident.checklist': 'Checklist at {{tier}}',
  'incident.mandatory': 'mandatory',
  'incident.clocks': 'Deadlines',
  'incident.due': '{{kind}} at {{tier}}: due {{when}}',
  'incident.kind.acknowledge': 'Acknowledge',
  'incident.kind.resolve': 'Resolve',
  'incident.next': 'Next escalation: {{when}}, to {{to}}',
  'incident.nextNotify': 'Next reminder to the managers: {{when}}',
  'incident.noNext': 'No automatic escalation is scheduled.',
  'incident.timeline': 'Timeline',
  'incident.comments': 'Comment',
  'incident.comment.add': 'Add a comment',
  'incident.comment.send': 'Send',
  'incident.actions': 'Actions',
  'incident.acknowledge': 'Acknowledge',
  'incident.start': 'Start work',
  'incident.pend': 'Put on hold',
  'incident.pend.reason': 'Waiting for',
  'incident.pend.requester': 'the requester',
  'incident.pend.vendor': 'a vendor',
  'incident.resume': 'Resume',
  'incident.escalate': 'Escalate',
  'incident.escalate.to': 'To tier',
  'incident.reason': 'Reason',
  'incident.handBack': 'Hand back',
  'incident.resolve': 'Resolve',
  'incident.resolution': 'Resolution',
  'incident.reopen': 'Reopen',
  'incident.close': 'Close',
  'incident.matrixVersion': 'Handled under matrix version {{v}}',
  'incident.resolvedWith': 'Resolution: {{text}}',
  'incident.opened': 'Opened {{when}}',
  'event.created': 'Opened at {{to}}',
  'event.acknowledged': 'Acknowledged',
  'event.work_started': 'Work started',
  'event.pended': 'Put on hold',
  'event.resumed': 'Resumed',
  'event.escalated': 'Escalated from {{from}} to {{to}}',
  'event.handed_back': 'Handed back from {{from}} to {{to}}',
  'event.resolved': 'Resolved',
  'event.closed': 'Closed',
  'event.reopened': 'Reopened',
  'event.commented': 'Comment',
  'event.action_checked': 'Action #{{n}} done',
  'event.action_unchecked': 'Action #{{n}} unchecked',
  'event.deadline_warning': 'Deadline approaching',
  'event.deadline_missed': 'Deadline missed',
  'event.manager_notified': 'Managers notified',
  'event.ping_pong_detected': 'Back and forth between tiers',
  'event.clock_stopped': 'Clock stopped',
  'event.by': 'by {{who}}',
  'event.system': 'automatic',
  'report.title': 'Report a problem',
  'report.what': 'What is wrong? (short title)',
  'report.details': 'Details: what you see, since when, what you tried',
  'report.category': 'Kind of problem',
  'report.impact': 'Who is affected?',
  'report.impact.1': 'Many people, or a critical service',
  'report.impact.2': 'A team or a department',
  'report.impact.3': 'Only me',
  'report.urgency': 'Can you keep working?',
  'report.urgency.1': 'No, work is stopped',
  'report.urgency.2': 'With difficulty',
  'report.urgency.3': 'Yes, it can wait',
  'report.submit': 'Send',
  'report.sent': 'Your incident #{{id}} was recorded.',
  'portal.title': 'My incidents',
  'portal.empty': 'You have not reported anything yet.',
  'portal.reply': 'Reply',
  'matrix.title': 'Escalation matrix',
  'matrix.sla': 'Acknowledge / resolve',
  'matrix.edit': 'Edit',
  'matrix.review': 'Review changes',
  'matrix.noChanges': 'No change yet: edit a cell (one action per line).',
  'matrix.diff': 'Changes against version {{v}}',
  'matrix.comment': 'What changed and why',
  'matrix.saveVersion': 'Save as a new version',
  'matrix.saved': 'Version {{v}} saved.',
  'matrix.versions': 'Versions',
  'matrix.compare': 'Compare',
  'matrix.show': 'Show',
  'matrix.from': 'From',
  'matrix.to': 'To',
  'matrix.print': 'Print',
  'matrix.current': 'current',
  'matrix.cellLabel': 'Actions for {{category}} at {{tier}}, one per line',
  'matrix.added': 'added',
  'matrix.removed': 'removed',
  'matrix.changed': 'changed',
  'dashboard.title': 'Desk overview',
  'dashboard.heat': 'Open incidents per tier and category',
  'dashboard.breaches': 'Targets missed today',
  'dashboard.breachesText': '{{events}} target(s) missed on {{incidents}} incident(s)',
  'dashboard.oldest': 'Oldest open incident per tier',
  'users.title': 'Users',
  'users.add': 'Add a user',
  'users.email': 'E-mail',
  'users.name': 'Display name',
  'users.role': 'Role',
  'users.tiers': 'Tiers (comma-separated)',
  'users.password': 'Password (at least 10 characters)',
  'users.create': 'Create',
  'users.created': 'User {{email}} created.',
  'users.disabled': 'disabled',
  'role.admin': 'Administrator',
  'role.manager': 'Manager',
  'role.agent': 'Agent',
  'role.requester': 'Requester',
};

type Key = keyof typeof en;

const fr: Record<Key, string> = {
  'app.name': 'Palier',
  'app.skip': 'Aller au contenu',
  'nav.queue': 'File',
  'nav.portal': 'Mes incidents',
  'nav.report': 'Signaler un problème',
  'nav.matrix': 'Matrice',
  'nav.dashboard': 'Tableau de bord',
  'nav.users': 'Utilisateurs',
  'nav.signOut': 'Se déconnecter',
  'nav.language': 'Langue',
  'signIn.title': 'Connexion à Palier',
  'signIn.email': 'Adresse e-mail',
  'signIn.password': 'Mot de passe',
  'signIn.submit': 'Se connecter',
  'signIn.sso': 'Se connecter avec l’authentification unique (SSO)',
  'signIn.or': 'ou',
  'signIn.sso_state': 'L’authentification unique a pris trop de temps ou a été interrompue. Réessayez.',
  'signIn.sso_cancelled': 'L’authentification unique a été annulée ou refusée par votre fournisseur d’identité.',
  'signIn.sso_failed': 'La réponse de votre fournisseur d’identité n’a pas pu être vérifiée. Réessayez ou contactez votre administrateur.',
  'signIn.sso_unavailable': 'Votre fournisseur d’identité est injoignable pour le moment. Réessayez dans quelques instants.',
  'signIn.sso_email_unverified': 'Votre fournisseur d’identité n’a pas vérifié votre adresse e-mail : il ne peut pas vous connecter à Palier.',
  'signIn.sso_unknown_user': 'Aucun compte Palier n’a votre adresse e-mail. Demandez-en un à votre administrateur.',
  'signIn.sso_user_disabled': 'Votre compte Palier est désactivé. Contactez votre administrateur.',
  'error.network': 'Le serveur est injoignable. Vérifiez la connexion et réessayez.',
  'error.unauthorized': 'Votre session a pris fin : reconnectez-vous.',
  'error.invalid_token': 'Votre session a pris fin : reconnectez-vous.',
  'error.invalid_credentials': 'Adresse ou mot de passe incorrect.',
  'error.forbidden': 'Vous n’avez pas le droit de faire ceci.',
  'error.not_found': 'Introuvable.',
  'error.generic': 'Une erreur est survenue ({{status}}). Votre saisie est conservée : réessayez.',
  'error.kept': 'Votre saisie est conservée.',
  'common.loading': 'Chargement…',
  'common.save': 'Enregistrer',
  'common.cancel': 'Annuler',
  'common.none': 'Aucun',
  'common.all': 'Tous',
  'common.tier': 'Niveau',
  'common.category': 'Catégorie',
  'common.priority': 'Priorité',
  'common.status': 'Statut',
  'common.search': 'Rechercher',
  'common.requester': 'Demandeur',
  'common.assignee': 'Pris en charge par',
  'common.you': 'vous',
  'common.user': 'utilisateur n° {{id}}',
  'common.version': 'version {{v}}',
  'status.new': 'Nouveau',
  'status.acknowledged': 'Pris en compte',
  'status.in_progress': 'En cours',
  'status.pending': 'En attente',
  'status.resolved': 'Résolu',
  'status.closed': 'Clos',
  'queue.title': 'File du niveau',
  'queue.empty': 'Aucun incident ouvert ne correspond.',
  'queue.breach': 'Échéance dans',
  'queue.breached': 'Dépassé depuis {{d}}',
  'queue.paused': 'En pause',
  'queue.noTarget': 'Aucune échéance en cours',
  'queue.saveView': 'Enregistrer la vue',
  'queue.viewName': 'Nom de la vue',
  'queue.views': 'Vues enregistrées',
  'queue.live': 'Mise à jour en direct',
  'queue.count': '{{n}} incident(s) ouvert(s)',
  'incident.description': 'Description',
  'incident.ladder': 'Niveaux',
  'incident.checklist': 'Actions à mener au niveau {{tier}}',
  'incident.mandatory': 'obligatoire',
  'incident.clocks': 'Échéances',
  'incident.due': '{{kind}} au niveau {{tier}} : avant {{when}}',
  'incident.kind.acknowledge': 'Prise en compte',
  'incident.kind.resolve': 'Résolution',
  'incident.next': 'Prochaine escalade : {{when}}, vers {{to}}',
  'incident.nextNotify': 'Prochain rappel aux responsables : {{when}}',
  'incident.noNext': 'Aucune escalade automatique prévue.',
  'incident.timeline': 'Historique',
  'incident.comments': 'Commentaire',
  'incident.comment.add': 'Ajouter un commentaire',
  'incident.comment.send': 'Envoyer',
  'incident.actions': 'Actions',
  'incident.acknowledge': 'Prendre en compte',
  'incident.start': 'Commencer',
  'incident.pend': 'Mettre en attente',
  'incident.pend.reason': 'En attente de',
  'incident.pend.requester': 'le demandeur',
  'incident.pend.vendor': 'un fournisseur',
  'incident.resume': 'Reprendre',
  'incident.escalate': 'Escalader',
  'incident.escalate.to': 'Vers le niveau',
  'incident.reason': 'Motif',
  'incident.handBack': 'Renvoyer au niveau inférieur',
  'incident.resolve': 'Résoudre',
  'incident.resolution': 'Solution apportée',
  'incident.reopen': 'Rouvrir',
  'incident.close': 'Clore',
  'incident.matrixVersion': 'Traité selon la version {{v}} de la matrice',
  'incident.resolvedWith': 'Solution : {{text}}',
  'incident.opened': 'Ouvert le {{when}}',
  'event.created': 'Ouvert au niveau {{to}}',
  'event.acknowledged': 'Pris en compte',
  'event.work_started': 'Travail commencé',
  'event.pended': 'Mis en attente',
  'event.resumed': 'Repris',
  'event.escalated': 'Escaladé de {{from}} vers {{to}}',
  'event.handed_back': 'Renvoyé de {{from}} vers {{to}}',
  'event.resolved': 'Résolu',
  'event.closed': 'Clos',
  'event.reopened': 'Rouvert',
  'event.commented': 'Commentaire',
  'event.action_checked': 'Action n° {{n}} faite',
  'event.action_unchecked': 'Action n° {{n}} décochée',
  'event.deadline_warning': 'Échéance proche',
  'event.deadline_missed': 'Échéance dépassée',
  'event.manager_notified': 'Responsables prévenus',
  'event.ping_pong_detected': 'Allers-retours entre niveaux',
  'event.clock_stopped': 'Compteur arrêté',
  'event.by': 'par {{who}}',
  'event.system': 'automatique',
  'report.title': 'Signaler un problème',
  'report.what': 'Quel est le problème ? (titre court)',
  'report.details': 'Détails : ce que vous constatez, depuis quand, ce que vous avez essayé',
  'report.category': 'Type de problème',
  'report.impact': 'Qui est touché ?',
  'report.impact.1': 'Beaucoup de personnes, ou un service essentiel',
  'report.impact.2': 'Une équipe ou un service',
  'report.impact.3': 'Moi seulement',
  'report.urgency': 'Pouvez-vous continuer à travailler ?',
  'report.urgency.1': 'Non, le travail est bloqué',
  'report.urgency.2': 'Difficilement',
  'report.urgency.3': 'Oui, cela peut attendre',
  'report.submit': 'Envoyer',
  'report.sent': 'Votre incident n° {{id}} est enregistré.',
  'portal.title': 'Mes incidents',
  'portal.empty': 'Vous n’avez encore rien signalé.',
  'portal.reply': 'Répondre',
  'matrix.title': 'Matrice d’escalade',
  'matrix.sla': 'Prise en compte / résolution',
  'matrix.edit': 'Modifier',
  'matrix.review': 'Voir les changements',
  'matrix.noChanges': 'Aucun changement : modifiez une case (une action par ligne).',
  'matrix.diff': 'Changements par rapport à la version {{v}}',
  'matrix.comment': 'Ce qui change et pourquoi',
  'matrix.saveVersion': 'Enregistrer une nouvelle version',
  'matrix.saved': 'Version {{v}} enregistrée.',
  'matrix.versions': 'Versions',
  'matrix.compare': 'Comparer',
  'matrix.show': 'Afficher',
  'matrix.from': 'De',
  'matrix.to': 'À',
  'matrix.print': 'Imprimer',
  'matrix.current': 'en vigueur',
  'matrix.cellLabel': 'Actions pour {{category}} au niveau {{tier}}, une par ligne',
  'matrix.added': 'ajouté',
  'matrix.removed': 'supprimé',
  'matrix.changed': 'modifié',
  'dashboard.title': 'Vue d’ensemble',
  'dashboard.heat': 'Incidents ouverts par niveau et catégorie',
  'dashboard.breaches': 'Échéances dépassées aujourd’hui',
  'dashboard.breachesText': '{{events}} échéance(s) dépassée(s) sur {{incidents}} incident(s)',
  'dashboard.oldest': 'Plus ancien incident ouvert par niveau',
  'users.title': 'Utilisateurs',
  'users.add': 'Ajouter un utilisateur',
  'users.email': 'Adresse e-mail',
  'users.name': 'Nom affiché',
  'users.role': 'Rôle',
  'users.tiers': 'Niveaux (séparés par des virgules)',
  'users.password': 'Mot de passe (10 caractères au moins)',
  'users.create': 'Créer',
  'users.created': 'Utilisateur {{email}} créé.',
  'users.disabled': 'désactivé',
  'role.admin': 'Administrateur',
  'role.manager': 'Responsable',
  'role.agent': 'Agent',
  'role.requester': 'Demandeur',
};

const DICTIONARIES: Record<Locale, Record<Key, string>> = { en, fr };
export type TKey = Key;
export type T = (key: Key, vars?: Record<string, string | number>) => string;

interface I18n {
  locale: Locale;
  setLocale(locale: Locale): void;
  t: T;
  /** Picks the text of the current language from a matrix's bilingual text. */
  l(text: Localized | undefined): string;
}

const Ctx = createContext<I18n | null>(null);

export function translate(locale: Locale, key: Key, vars?: Record<string, string | number>): string {
  const text = DICTIONARIES[locale][key] ?? key;
  return vars ? text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => String(vars[name] ?? '')) : text;
}

const STORED = 'palier.locale';
export const storedLocale = (): Locale | null => {
  const v = localStorage.getItem(STORED);
  return v === 'fr' || v === 'en' ? v : null;
};

export function I18nProvider({
  children,
  initial,
  onChange,
}: {
  children: ReactNode;
  initial: Locale;
  onChange?: (locale: Locale) => void;
}) {
  const [locale, setLocaleState] = useState<Locale>(initial);
  const value = useMemo<I18n>(
    () => ({
      locale,
      setLocale(next) {
        localStorage.setItem(STORED, next);
        document.documentElement.lang = next;
        setLocaleState(next);
        onChange?.(next);
      },
      t: (key, vars) => translate(locale, key, vars),
      l: (text) => (text ? text[locale] : ''),
    }),
    [locale, onChange],
  );
  document.documentElement.lang = locale;
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useT(): I18n {
  const ctx = useContext(Ctx);
  if (!ctx) throw new Error('useT outside I18nProvider');
  return ctx;
}

/** Dates in the browser's own locale and time zone. */
export const formatDate = (iso: string | null | undefined) =>
  iso ? new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso)) : '';

export function formatDuration(ms: number, locale: Locale): string {
  const abs = Math.abs(ms);
  const d = Math.floor(abs / 86_400_000);
  const h = Math.floor((abs % 86_400_000) / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  const day = locale === 'fr' ? 'j' : 'd';
  if (d > 0) return `${d} ${day} ${h} h`;
  if (h > 0) return `${h} h ${String(m).padStart(2, '0')} min`;
  return `${m} min ${String(s).padStart(2, '0')} s`;
}

/** ISO 8601 durations of the matrix (PT15M, P1DT4H) in plain words. */
export function formatIsoDuration(text: string, locale: Locale): string {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/.exec(text);
  if (!m) return text;
  const parts: string[] = [];
  if (m[1]) parts.push(`${m[1]} ${locale === 'fr' ? 'j' : 'd'}`);
  if (m[2]) parts.push(`${m[2]} h`);
  if (m[3]) parts.push(`${m[3]} min`);
  return parts.join(' ');
}

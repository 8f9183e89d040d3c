import type { MatrixDefinition } from './matrix.js';
import { DEFAULT_PRIORITY_TABLE, PRIORITIES } from './priority.js';

/**
 * The default escalation matrix: the French template Palier was created from, word for word,
 * each sentence of a cell one action, with a faithful English translation beside it.
 */
export const SEED_MATRIX: MatrixDefinition = {
  tiers: [
    {
      key: 'L1',
      name: { fr: 'Service d’assistance informatique (niveau\u00a01)', en: 'IT helpdesk (level 1)' },
      description: {
        fr: 'En tant que premier point de contact en cas de problème informatique, le système d’assistance informatique s’occupe des questions d’ordre général et des résolutions de problèmes basiques.',
        en: 'As the first point of contact for IT problems, the IT helpdesk handles general questions and basic troubleshooting.',
      },
    },
    {
      key: 'L2',
      name: { fr: 'Assistance de niveau\u00a02', en: 'Level 2 support' },
      description: {
        fr: 'Le niveau\u00a02 gère les questions plus complexes qui nécessitent des connaissances spécialisées ou des compétences techniques supplémentaires.',
        en: 'Level 2 handles more complex questions that require specialised knowledge or additional technical skills.',
      },
    },
    {
      key: 'L3',
      name: { fr: 'Assistance de niveau\u00a03', en: 'Level 3 support' },
      description: {
        fr: 'Le niveau\u00a03 gère les défis techniques de haut niveau impliquant l’infrastructure système ou des problèmes logiciels complexes.',
        en: 'Level 3 handles high-level technical challenges involving system infrastructure or complex software problems.',
      },
    },
    {
      key: 'LX',
      name: { fr: 'Assistance de niveau\u00a0X', en: 'Level X support' },
      description: {
        fr: 'Le niveau\u00a0X correspond à une assistance externe spécialisée ou à une assistance spécifique au fournisseur concernant des questions très spécifiques.',
        en: 'Level X is specialised external support, or vendor-specific support for very specific questions.',
      },
    },
  ],
  categories: [
    { key: 'software-installation-failure', name: { fr: 'Échec d’installation de logiciel', en: 'Software installation failure' } },
    { key: 'network-downtime', name: { fr: 'Temps d’arrêt du réseau', en: 'Network downtime' } },
    {
      key: 'data-security-breach',
      name: { fr: 'Atteinte à la sécurité des données', en: 'Data security breach' },
      // L1 takes the report in and sees it while it holds it; L2 and L3 analyse and audit every breach.
      confidential: { tiers: ['L2', 'L3'], users: [] },
      // GDPR article 33: the supervisory authority is notified within 72 hours of becoming aware.
      clocks: [
        {
          key: 'gdpr-art33',
          name: {
            fr: 'Notification à l’autorité de protection des données (RGPD, art. 33)',
            en: 'Notification to the data protection authority (GDPR, art. 33)',
          },
          duration: 'PT72H',
          calendar: '24x7',
        },
      ],
    },
    { key: 'cloud-service-interruption', name: { fr: 'Interruptions du service cloud', en: 'Cloud service interruptions' } },
  ],
  cells: [
    {
      category: 'software-installation-failure',
      tier: 'L1',
      actions: [
        {
          fr: 'Confirmer la configuration système et tenter des procédures de réinstallation de base.',
          en: 'Confirm the system configuration and attempt basic reinstallation procedures.',
        },
      ],
    },
    {
      category: 'software-installation-failure',
      tier: 'L2',
      actions: [
        {
          fr: 'Effectuer des diagnostics détaillés pour identifier les conflits ou les fichiers corrompus.',
          en: 'Run detailed diagnostics to identify conflicts or corrupted files.',
        },
        {
          fr: 'Effectuer des tests sur d’autres systèmes, le cas échéant.',
          en: 'Run tests on other systems, where applicable.',
        },
      ],
    },
    {
      category: 'software-installation-failure',
      tier: 'L3',
      actions: [
        {
          fr: 'Vérifier et corriger les paramètres profonds du système ou les conflits de registre qui pourraient empêcher le système de sécurité de fonctionner.',
          en: 'Check and correct deep system settings or registry conflicts that could prevent the security system from working.',
        },
      ],
    },
    {
      category: 'software-installation-failure',
      tier: 'LX',
      actions: [
        {
          fr: 'Contacter le fournisseur du logiciel en cas de problèmes d’installation de logiciels propriétaires ou pour recevoir des correctifs.',
          en: 'Contact the software vendor about installation problems with proprietary software, or to obtain patches.',
        },
      ],
    },
    {
      category: 'network-downtime',
      tier: 'L1',
      actions: [
        {
          fr: 'Vérifier les rapports initiaux et confirmer si le problème est général ou localisé.',
          en: 'Check the initial reports and confirm whether the problem is widespread or localised.',
        },
        {
          fr: 'Réinitialiser les routeurs ou les commutateurs, le cas échéant.',
          en: 'Reset the routers or switches, where applicable.',
        },
      ],
    },
    {
      category: 'network-downtime',
      tier: 'L2',
      actions: [
        {
          fr: 'Analyser les journaux réseau et collaborer avec les fournisseurs d’accès à Internet ou les équipes en charge du réseau interne pour localiser les perturbations.',
          en: 'Analyse the network logs and work with the internet service providers or the internal network teams to locate the disruptions.',
        },
      ],
    },
    {
      category: 'network-downtime',
      tier: 'L3',
      actions: [
        {
          fr: 'Mettre en œuvre des procédures avancées de récupération du réseau et reconfigurer les principaux protocoles de routage.',
          en: 'Carry out advanced network recovery procedures and reconfigure the main routing protocols.',
        },
      ],
    },
    {
      category: 'network-downtime',
      tier: 'LX',
      actions: [
        {
          fr: 'Faire appel aux fournisseurs d’équipements réseau à des fins de mise à jour critique des micrologiciels ou de diagnostics spécialisés.',
          en: 'Call on the network equipment vendors for critical firmware updates or specialised diagnostics.',
        },
      ],
    },
    {
      category: 'data-security-breach',
      tier: 'L1',
      actions: [
        {
          fr: 'Consigner l’incident, alerter les équipes de sécurité et lancer une procédure préliminaire de verrouillage des données.',
          en: 'Log the incident, alert the security teams and start a preliminary data lockdown procedure.',
        },
      ],
    },
    {
      category: 'data-security-breach',
      tier: 'L2',
      actions: [
        {
          fr: 'Effectuer une première analyse pour évaluer l’ampleur de la violation et identifier les systèmes compromis.',
          en: 'Carry out an initial analysis to assess the extent of the breach and identify the compromised systems.',
        },
      ],
    },
    {
      category: 'data-security-breach',
      tier: 'L3',
      actions: [
        {
          fr: 'Mener des audits de sécurité complets et mettre en œuvre des stratégies de remédiation afin de sécuriser tous les points de données.',
          en: 'Conduct full security audits and implement remediation strategies to secure every data point.',
        },
      ],
    },
    {
      category: 'data-security-breach',
      tier: 'LX',
      actions: [
        {
          fr: 'Travailler avec des entreprises de cybersécurité pour mettre au point des solutions de détection des menaces et des techniques d’atténuation.',
          en: 'Work with cybersecurity firms to develop threat detection solutions and mitigation techniques.',
        },
      ],
    },
    {
      category: 'cloud-service-interruption',
      tier: 'L1',
      actions: [
        {
          fr: 'Vérifier le statut des services auprès des fournisseurs de services cloud et communiquer les détails des pannes aux utilisateurs.',
          en: 'Check the status of the services with the cloud service providers and communicate the outage details to users.',
        },
      ],
    },
    {
      category: 'cloud-service-interruption',
      tier: 'L2',
      actions: [
        {
          fr: 'Évaluer les intégrations API et vérifier les services connexes pour assurer la connectivité.',
          en: 'Assess the API integrations and check the related services to ensure connectivity.',
        },
      ],
    },
    {
      category: 'cloud-service-interruption',
      tier: 'L3',
      actions: [
        {
          fr: 'Coordonner avec les ingénieurs cloud la restauration des services et gérer les contrôles d’intégrité des données.',
          en: 'Coordinate the restoration of services with the cloud engineers and manage the data integrity checks.',
        },
      ],
    },
    {
      category: 'cloud-service-interruption',
      tier: 'LX',
      actions: [
        {
          fr: 'Communiquer avec les fournisseurs de services informatiques cloud afin de procéder à une analyse détaillée des causes profondes et d’éviter toute interruption future.',
          en: 'Communicate with the cloud computing service providers to carry out a detailed root-cause analysis and prevent any future interruption.',
        },
      ],
    },
  ],
  // Time each tier has, per priority, to acknowledge and then to resolve before the incident moves up.
  sla: [
    ...slaRow('L1', [['PT15M', 'PT1H'], ['PT30M', 'PT4H'], ['PT1H', 'PT8H'], ['PT4H', 'PT24H'], ['PT8H', 'PT40H']]),
    ...slaRow('L2', [['PT15M', 'PT2H'], ['PT30M', 'PT8H'], ['PT2H', 'PT16H'], ['PT8H', 'PT40H'], ['PT16H', 'PT80H']]),
    ...slaRow('L3', [['PT30M', 'PT4H'], ['PT1H', 'PT16H'], ['PT4H', 'PT24H'], ['PT8H', 'PT80H'], ['PT16H', 'PT120H']]),
    ...slaRow('LX', [['PT1H', 'PT8H'], ['PT2H', 'PT24H'], ['PT8H', 'PT40H'], ['PT16H', 'PT120H'], ['PT24H', 'PT160H']]),
  ],
  priorityTable: DEFAULT_PRIORITY_TABLE,
};

function slaRow(tier: string, targets: Array<[string, string]>) {
  return targets.map(([acknowledge, resolve], i) => ({ tier, priority: PRIORITIES[i]!, acknowledge, resolve }));
}
